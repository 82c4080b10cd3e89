"""End-to-end bench: orders posted to the API while real Celery workers on Redis orchestrate them
(route, reserve, fulfillment order, release to a node on the API connector), against a SQL floor
for the same work in the same run.

Two phases on the gunicorn that bench/run.sh started, with CELERY_WORKERS Celery worker
processes (each `--concurrency` prefork children) started and stopped here:

1. **full speed**: CLIENTS clients post back to back (bench/capture_load.py) for WARMUP +
   DURATION seconds, then the queue drains. Orders orchestrated per second = the phase's orders
   divided by the time from the first capture to the last release (an order is released when
   every one of its fulfillment orders is). The window's own rates, the backlog (captured, not
   yet released) at its start and end and the Celery queue depth over time show how far
   orchestration trails capture while the web tier takes the cores.
2. **paced**: the same clients post at PACED_FRACTION of the orchestrated rate just measured
   (open loop). At a rate the pipeline sustains the backlog must not grow; p50/p99 from capture
   (the order's created_at) to release (its last fulfillment order's released_at) are taken
   here, where they mean latency and not time spent in a growing queue.

Then the floor (bench/e2e_floor/: capture, reserve and release as three transactions, as the
service does) runs with pgbench, same clients and duration, and the ratio is printed with PASS or
FAIL against the target. Appends one JSON line to --jsonl.

Needs Django settings in the environment (bench/run.sh exports them), the bench database seeded
by bench/setup_data.py with `bench-dc` active (it runs before the routing bench deactivates it).
"""

import argparse
import contextlib
import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 0.10
BACKLOG_TOLERANCE = 0.05  # paced phase: orchestrated/s may trail captured/s by at most 5 %


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), math.ceil(q / 100 * len(sorted_values))))
    return sorted_values[rank - 1]


class QueueSampler(threading.Thread):
    """LLEN of the Celery queue every `every` seconds (wall clock, seconds since the epoch)."""

    def __init__(self, redis_url: str, queue: str, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        import redis

        self.client = redis.Redis.from_url(redis_url)
        self.queue = queue
        self.every = every
        self.samples: list[tuple[float, int]] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            # A sample lost (Redis busy) is not a bench failure.
            with contextlib.suppress(Exception):
                self.samples.append((time.time(), int(self.client.llen(self.queue))))
            self.stopped.wait(self.every)

    def stop(self) -> list[tuple[float, int]]:
        self.stopped.set()
        self.join(timeout=5)
        return self.samples


class CeleryWorkers:
    """`count` `celery -A oms worker` processes, each in its own process group."""

    def __init__(self, count: int, concurrency: int, log: Path) -> None:
        self.count, self.concurrency, self.log = count, concurrency, log
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        from oms.celery import app

        out = self.log.open("ab")
        for i in range(self.count):
            self.procs.append(
                subprocess.Popen(
                    [
                        str(ROOT / ".venv" / "bin" / "celery"),
                        "-A",
                        "oms",
                        "worker",
                        "--pool=prefork",
                        f"--concurrency={self.concurrency}",
                        f"--hostname=bench{i}-{os.getpid()}@%h",
                        "--loglevel=WARNING",
                        "--without-gossip",
                        "--without-mingle",
                        "--without-heartbeat",
                    ],
                    cwd=ROOT,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        deadline = time.monotonic() + 90
        names = {f"bench{i}-{os.getpid()}" for i in range(self.count)}
        while time.monotonic() < deadline:
            replies = app.control.ping(timeout=1.0) or []
            up = {name.split("@")[0] for reply in replies for name in reply}
            if names <= up:
                return
            if any(p.poll() is not None for p in self.procs):
                raise RuntimeError(f"a Celery worker exited at start: see {self.log}")
        raise RuntimeError(f"Celery workers not ready in 90 s: see {self.log}")

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for p in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.procs = []


def run_load(args: argparse.Namespace, tag: str, duration: float, rate: float = 0.0) -> dict:
    out = Path(args.tmp) / f"{tag}.json"
    cmd = [
        sys.executable,
        str(ROOT / "bench" / "capture_load.py"),
        "--port",
        str(args.port),
        "--key-file",
        str(args.key_file),
        "--clients",
        str(args.clients),
        "--duration",
        str(duration),
        "--warmup",
        str(args.warmup),
        "--skus",
        str(args.skus),
        "--max-error-rate",
        str(args.max_error_rate),
        "--json-out",
        str(out),
        "--tag",
        tag,
    ]
    if rate > 0:
        cmd += ["--rate", f"{rate:.3f}"]
    completed = subprocess.run(cmd, check=False)
    result = json.loads(out.read_text()) if out.exists() else {}
    result["rc"] = completed.returncode
    return result


def order_times(tag: str) -> list[tuple[float, float | None]]:
    """(created_at, released_at of its last fulfillment order or None) per order of `tag`,
    as epoch seconds. None while any of its fulfillment orders is unreleased, or it has none."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT extract(epoch FROM o.created_at)::float8,
                   CASE WHEN count(f.id) > 0 AND bool_and(f.released_at IS NOT NULL)
                        THEN extract(epoch FROM max(f.released_at))::float8 END
              FROM orders_order o
              LEFT JOIN fulfillment_fulfillmentorder f ON f.order_id = o.id
             WHERE o.external_id LIKE %s
             GROUP BY o.id
            """,
            [f"{tag}-%"],
        )
        return [(row[0], row[1]) for row in cur.fetchall()]


def wait_drained(tag: str, timeout: float) -> tuple[bool, float]:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        rows = order_times(tag)
        if rows and all(released is not None for _, released in rows):
            return True, time.monotonic() - start
        time.sleep(1.0)
    return False, time.monotonic() - start


def phase_stats(
    rows: list[tuple[float, float | None]], warmup: float, duration: float
) -> dict[str, Any]:
    first = min(created for created, _ in rows)
    w0, w1 = first + warmup, first + warmup + duration
    created_in = [c for c, _ in rows if w0 <= c < w1]
    released_in = [r for _, r in rows if r is not None and w0 <= r < w1]

    def backlog(at: float) -> int:
        return sum(1 for c, r in rows if c <= at and (r is None or r > at))

    latencies = sorted((r - c) * 1000 for c, r in rows if r is not None and w0 <= c < w1)
    released = [r for _, r in rows if r is not None]
    span = (max(released) - first) if released else 0.0
    return {
        "window": (w0, w1),
        # The whole burst through the pipeline: every order of the phase (warm-up included),
        # from the first capture to the last release. With the workers starved by the web tier
        # while it posts at full speed, the queue drains after the load; this counts both.
        "pipeline_per_s": len(released) / span if span > 0 else 0.0,
        "pipeline_span_s": span,
        "captured_per_s": len(created_in) / duration,
        "orchestrated_per_s": len(released_in) / duration,
        "backlog_start": backlog(w0),
        "backlog_end": backlog(w1),
        "orders": len(rows),
        "released": sum(1 for _, r in rows if r is not None),
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p99_ms": percentile(latencies, 99),
        "latency_n": len(latencies),
    }


def depth_timeline(samples: list[tuple[float, int]], w0: float, w1: float, step: float) -> str:
    """Queue depth at every `step` seconds from the window start (last sample before each)."""
    points = []
    t = w0
    while t <= w1 + 1e-9:
        before = [d for ts, d in samples if ts <= t]
        points.append(str(before[-1]) if before else "-")
        t += step
    return " ".join(points)


def depth_slope(samples: list[tuple[float, int]], w0: float, w1: float) -> float:
    """Least-squares slope of the queue depth over the window, messages per second."""
    pts = [(ts, d) for ts, d in samples if w0 <= ts <= w1]
    if len(pts) < 2:
        return 0.0
    mx = sum(t for t, _ in pts) / len(pts)
    my = sum(d for _, d in pts) / len(pts)
    var = sum((t - mx) ** 2 for t, _ in pts)
    return sum((t - mx) * (d - my) for t, d in pts) / var if var else 0.0


def grab(pattern: str, text: str) -> float:
    found = re.search(pattern, text, re.M)
    if found is None:
        raise RuntimeError(f"pgbench output without {pattern!r}:\n{text}")
    return float(found.group(1))


def run_floor(args: argparse.Namespace) -> dict[str, float]:
    floor_dir = ROOT / "bench" / "e2e_floor"
    env = {**os.environ, "PGDATABASE": args.floor_db}
    subprocess.run(
        ["psql", "-q", "-v", "ON_ERROR_STOP=1", "-v", f"nskus={args.skus}", "-f", "schema.sql"],
        cwd=floor_dir,
        env=env,
        check=True,
        stderr=subprocess.DEVNULL,
    )
    out = subprocess.run(
        [
            "pgbench",
            "-n",
            "-f",
            "order.pgbench",
            "-D",
            f"nskus={args.skus}",
            "-c",
            str(args.clients),
            "-j",
            str(min(2, args.clients)),
            "-T",
            str(int(args.duration)),
        ],
        cwd=floor_dir,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {
        "tps": grab(r"^tps = ([0-9.]+)", out),
        "latency_avg_ms": grab(r"^latency average = ([0-9.]+)", out),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--key-file", type=Path, required=True)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--paced-duration", type=float, default=20.0)
    parser.add_argument("--paced-fraction", type=float, default=0.8)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--celery-workers", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--drain-timeout", type=float, default=120.0)
    parser.add_argument("--max-error-rate", type=float, default=0.001)
    parser.add_argument("--floor-db", default="oms_floor")
    parser.add_argument("--no-floor", action="store_true")
    parser.add_argument("--queue", default="celery")
    parser.add_argument("--tmp", required=True)
    parser.add_argument("--worker-log", type=Path, required=True)
    parser.add_argument("--jsonl", type=Path)
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--meta", default="{}")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
    import django

    django.setup()

    problems: list[str] = []
    run_tag = f"e2e{os.getpid()}"
    workers = CeleryWorkers(args.celery_workers, args.concurrency, args.worker_log)
    sampler = QueueSampler(os.environ["CELERY_BROKER_URL"], args.queue)
    print(
        f"== end to end: {args.celery_workers} Celery worker(s) x {args.concurrency} processes, "
        f"nodes on the API connector, {args.clients} clients"
    )
    try:
        workers.start()
        sampler.start()
        full_tag = f"{run_tag}f"
        full_load = run_load(args, full_tag, args.duration)
        drained, drain_s = wait_drained(full_tag, args.drain_timeout)
        if not drained:
            problems.append(f"full-speed orders not all released {args.drain_timeout:g} s after")
        full = phase_stats(order_times(full_tag), args.warmup, args.duration)
        rate = full["pipeline_per_s"] * args.paced_fraction
        paced_tag = f"{run_tag}p"
        paced: dict[str, Any] = {}
        if args.paced_duration <= 0:
            pass  # scale-out runs (bench/run.sh): the full-speed rate only
        elif rate > 0:
            paced_load = run_load(args, paced_tag, args.paced_duration, rate)
            drained_p, _ = wait_drained(paced_tag, args.drain_timeout)
            if not drained_p:
                problems.append("paced orders not all released in time")
            paced = phase_stats(order_times(paced_tag), args.warmup, args.paced_duration)
            paced["offered_per_s"] = rate
            paced["load_rc"] = paced_load.get("rc")
        else:
            problems.append("nothing orchestrated at full speed")
    finally:
        samples = sampler.stop() if sampler.is_alive() else sampler.samples
        workers.stop()
    if full_load.get("rc"):
        problems.append(f"full-speed load generator exited {full_load.get('rc')}")

    floor = {} if args.no_floor else run_floor(args)

    w0, w1 = full["window"]
    print(
        f"  full speed : {full['orders']} orders posted back to back; orchestrated "
        f"(captured->released) {full['pipeline_per_s']:.1f} orders/s from the first capture to "
        f"the last release ({full['pipeline_span_s']:.1f} s)"
    )
    print(
        f"    in the {args.duration:g} s window: captured {full['captured_per_s']:.1f}/s, released "
        f"{full['orchestrated_per_s']:.1f}/s, backlog {full['backlog_start']} -> "
        f"{full['backlog_end']} (queue slope {depth_slope(samples, w0, w1):+.1f} msg/s); "
        f"drained {drain_s:.1f} s after the load; capture->release "
        f"p50={full['latency_p50_ms']:.0f} ms p99={full['latency_p99_ms']:.0f} ms (queueing)"
    )
    print(f"    queue depth every 2 s: {depth_timeline(samples, w0, w1, 2.0)}")
    if paced:
        p0, p1 = paced["window"]
        growth = paced["backlog_end"] - paced["backlog_start"]
        keeps_up = paced["orchestrated_per_s"] >= (1 - BACKLOG_TOLERANCE) * paced["captured_per_s"]
        print(
            f"  paced      : offered {paced['offered_per_s']:.1f}/s ({args.paced_fraction:.0%} of "
            f"the full-speed rate): captured {paced['captured_per_s']:.1f}/s, orchestrated "
            f"{paced['orchestrated_per_s']:.1f}/s; backlog {paced['backlog_start']} -> "
            f"{paced['backlog_end']} ({growth:+d}; queue slope "
            f"{depth_slope(samples, p0, p1):+.2f} msg/s)"
        )
        print(f"    queue depth every 2 s: {depth_timeline(samples, p0, p1, 2.0)}")
        print(
            f"    capture->release: p50={paced['latency_p50_ms']:.0f} ms  "
            f"p99={paced['latency_p99_ms']:.0f} ms  (n={paced['latency_n']})"
        )
        print(
            f"  no backlog growth at the paced rate (orchestrated >= "
            f"{1 - BACKLOG_TOLERANCE:.0%} of captured): {'PASS' if keeps_up else 'FAIL'}"
        )
    ratio = None
    if floor:
        ratio = full["pipeline_per_s"] / floor["tps"] if floor["tps"] else 0.0
        print(
            f"  e2e floor  : bench/e2e_floor (capture, reserve, release: 3 transactions), "
            f"{args.clients} clients, {int(args.duration)} s: {floor['tps']:.1f} orders/s"
        )
        verdict = "PASS" if ratio >= TARGET_RATIO else "FAIL"
        print(
            f"e2e ratio:     oms {full['pipeline_per_s']:.1f} orchestrated/s / floor "
            f"{floor['tps']:.1f} orders/s = {ratio:.3f}  (target >= {TARGET_RATIO:.2f}: {verdict})"
        )
    record = {
        "ts": datetime.now(UTC).isoformat(timespec="seconds"),
        **json.loads(args.meta),
        "celery_workers": args.celery_workers,
        "concurrency": args.concurrency,
        "full": {k: v for k, v in full.items() if k != "window"},
        "paced": {k: v for k, v in paced.items() if k != "window"},
        "drain_s": round(drain_s, 1),
        "floor": floor,
        "e2e_ratio": round(ratio, 4) if ratio is not None else None,
        "problems": problems,
    }
    if args.jsonl:
        args.jsonl.parent.mkdir(parents=True, exist_ok=True)
        with args.jsonl.open("a") as out:
            out.write(json.dumps(record) + "\n")
    if args.json_out:
        args.json_out.write_text(json.dumps(record))
    for problem in problems:
        print(f"FAIL: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
