"""CPU per GET /api/v1/availability/ under HTTP, split by process: the gunicorn workers, their
PostgreSQL backends, Redis and the clients (A/B of two checkouts on a shared machine).

gunicorn as bench/run.sh starts it (4 sync workers, bench/gunicorn_conf.py) from --code, and
--clients closed-loop clients of routing_bench's kind (http.client, 3 SKUs, its postal code).
After a warm-up, the CPU of every process is read from /proc before and after --requests
requests; wall-clock figures are printed too, but on a shared machine only the CPU per request
compares (run A B A B). Needs the routing bench's network (bench/availability_profile.py adds it
to a bench/setup_data.py database):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms_x REDIS_URL=redis://127.0.0.1:6379/9 ... \
    .venv/bin/python bench/availability_http_cpu.py --key-file KEY --code ../other-checkout
"""

import argparse
import http.client
import multiprocessing as mp
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process so far; (0, 0) once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0, 0.0
    return int(fields[11]) / TICK, int(fields[12]) / TICK


def client(
    index: int,
    port: int,
    key: str,
    sample: list[str],
    requests: int,
    warmup: int,
    barriers: tuple[Any, Any],
    out: Any,
) -> None:
    from routing_bench import AVAILABILITY_POSTAL_CODE, AVAILABILITY_SKUS

    rng = random.Random(f"availability-{index}")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}

    def one() -> tuple[int, int]:
        query = [("sku", s) for s in rng.sample(sample, AVAILABILITY_SKUS)]
        query += [("postal_code", AVAILABILITY_POSTAL_CODE), ("country", "US")]
        conn.request("GET", f"/api/v1/availability/?{urlencode(query)}", headers=headers)
        response = conn.getresponse()
        return response.status, len(response.read())

    barriers[0].wait()
    for _ in range(warmup):
        one()
    barriers[1].wait()
    started = time.process_time()
    latencies, failed, size = [], 0, 0
    for _ in range(requests):
        t0 = time.perf_counter()
        status, size = one()
        latencies.append(time.perf_counter() - t0)
        failed += status != 200
    out.put((time.process_time() - started, latencies, failed, size))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--key-file", required=True, type=Path)
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout gunicorn runs")
    parser.add_argument("--label", default="")
    parser.add_argument("--requests", type=int, default=1600)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=30, help="per client")
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()

    from routing_bench import sku

    rng = random.Random(20250301)  # routing_bench's seed and sample
    sample = [sku(i) for i in sorted(rng.sample(range(1, 10_001), 300))]
    database = urlparse(os.environ["DATABASE_URL"]).path.lstrip("/")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ready = Path(tempfile.mkdtemp())
    env = dict(os.environ, BENCH_READY_DIR=str(ready), DB_CONN_MAX_AGE="60")
    gunicorn = subprocess.Popen(  # noqa: S603 - our own command line
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "oms.wsgi:application",
            "-c",
            "bench/gunicorn_conf.py",
            "--workers",
            str(args.workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=args.code,
        env=env,
    )
    try:
        while len(list(ready.iterdir())) < args.workers:
            time.sleep(0.2)
        workers = [int(p.name.split("-")[-1]) for p in ready.iterdir()]
        key = args.key_file.read_text().strip()
        ctx = mp.get_context("spawn")
        barriers = (ctx.Barrier(args.clients + 1), ctx.Barrier(args.clients + 1))
        out = ctx.Queue()
        per_client = args.requests // args.clients
        clients = [
            ctx.Process(
                target=client,
                args=(i, port, key, sample, per_client, args.warmup, barriers, out),
            )
            for i in range(args.clients)
        ]
        for c in clients:
            c.start()
        barriers[0].wait()
        while barriers[1].n_waiting < args.clients:  # every client done with its warm-up
            time.sleep(0.01)
        backends = subprocess.check_output(  # noqa: S603 - our own command line
            [
                "psql",
                "-d",
                os.environ["DATABASE_URL"],
                "-Atc",
                "SELECT pid FROM pg_stat_activity "
                f"WHERE datname = '{database}' AND pid <> pg_backend_pid()",
            ],
            text=True,
        ).split()
        redis = subprocess.check_output(["pgrep", "-x", "redis-server"], text=True).split()  # noqa: S607
        groups = {
            "gunicorn": workers,
            "pg": [int(p) for p in backends],
            "redis": [int(p) for p in redis],
        }
        before = {name: [cpu_seconds(p) for p in pids] for name, pids in groups.items()}
        started = time.perf_counter()
        barriers[1].wait()
        results = [out.get(timeout=600) for _ in clients]
        wall = time.perf_counter() - started
        after = {name: [cpu_seconds(p) for p in pids] for name, pids in groups.items()}
        for c in clients:
            c.join()
        n = per_client * args.clients
        ms = {
            name: sum(sum(a) - sum(b) for a, b in zip(after[name], before[name], strict=True))
            / n
            * 1000
            for name in groups
        }
        ms["client"] = sum(r[0] for r in results) / n * 1000
        latencies = sorted(x for r in results for x in r[1])
        failed = sum(r[2] for r in results)
        split = "  ".join(f"{name} {value:.3f}" for name, value in ms.items())
        print(
            f"{args.label}{split}  total {sum(ms.values()):.3f} ms of CPU per request | "
            f"{n / wall:.1f} req/s, p50 {latencies[len(latencies) // 2] * 1000:.1f} ms, "
            f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.1f} ms, {failed} not 200, "
            f"{results[0][3]} bytes, load average {os.getloadavg()[0]:.1f}"
        )
        return 1 if failed else 0
    finally:
        gunicorn.terminate()
        gunicorn.wait()
        shutil.rmtree(ready, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
