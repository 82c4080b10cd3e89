"""Closed-loop load generator for POST /api/v1/orders/.

CLIENTS worker processes (one process each, so the client does not queue on one GIL) post valid
3-line orders back to back: a warm-up that is not counted, then a measured window of DURATION
seconds. Each request is one HTTP/1.1 exchange on its own connection (bench/http_exchange.py:
a plain socket, not http.client, so that the client takes less of the server's CPU). Every
request's completion time, latency and status are recorded; only responses that complete
inside the measured window count.

Prints orders/s (201s only), p50/p95/p99 latency, and errors by status (any non-201 is an
error; connection failures are reported as status 0). Writes the numbers as JSON to --json-out.
Exit status: 0, or 3 if more than --max-error-rate of all requests (warm-up included) failed.
"""

import argparse
import json
import math
import multiprocessing as mp
import os
import queue
import random
import resource
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

CONNECT_ERROR = 0  # "status" recorded when the request got no HTTP response at all
SAMPLES_PER_STATUS = 3


def sku(index: int) -> str:
    return f"BENCH-{index:05d}"


def order_body(rng: random.Random, external_id: str, nskus: int) -> dict[str, Any]:
    lines = [
        {"sku": sku(i), "quantity": rng.randint(1, 3), "unit_price": "9.99"}
        for i in rng.sample(range(1, nskus + 1), 3)
    ]
    return {
        "external_id": external_id,
        "placed_at": datetime.now(UTC).isoformat(),
        "currency": "USD",
        "customer": {
            "name": "Bench Customer",
            "email": "bench.customer@example.com",
            "phone": "+1 614 555 0100",
        },
        "delivery": {"method": "ship", "service_level": "standard"},
        "shipping_address": {
            "name": "Bench Customer",
            "line1": "100 Main Street",
            "line2": "Apt 4",
            "city": "Columbus",
            "region": "OH",
            "postal_code": "43215",
            "country": "US",
        },
        "payment": {"status": "authorized", "method": "card", "reference": external_id},
        "lines": lines,
    }


def worker(
    index: int,
    host: str,
    port: int,
    key: str,
    nskus: int,
    run_id: str,
    warmup: float,
    duration: float,
    barrier: Any,
    results: Any,
    tag: str = "bench",
    interval: float = 0.0,
    offset: float = 0.0,
) -> None:
    # Here, not at the top: the tests import this module as bench.capture_load (order_body),
    # and only a worker, started by this script from bench/, sends requests.
    from http_exchange import end_head, exchange, request_head

    rng = random.Random(f"{run_id}-{index}")
    address = (host, port)
    head = request_head(
        "POST",
        "/api/v1/orders/",
        host,
        port,
        {
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
    )
    records: list[tuple[float, float, int]] = []  # (completed_at, latency_s, status)
    samples: dict[int, list[str]] = {}
    barrier.wait(timeout=120)
    start = time.monotonic()
    cpu_started = time.process_time()
    stop = start + warmup + duration
    seq = 0
    # Paced (open loop) when interval > 0: request k of this client is due at
    # start + offset + k * interval (the clients' offsets spread them over one interval); a
    # client that falls behind sends at once.
    due = start + offset
    while time.monotonic() < stop:
        if interval > 0:
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            due += interval
            if time.monotonic() >= stop:
                break
        seq += 1
        external_id = f"{tag}-{run_id}-{index}-{seq}"
        body = json.dumps(order_body(rng, external_id, nskus)).encode()
        idempotency_key = f"{external_id}-{uuid.uuid4().hex}"
        t0 = time.monotonic()
        try:
            request = end_head(head + b"Idempotency-Key: %s\r\n" % idempotency_key.encode(), body)
            status, payload = exchange(address, request)
        except OSError as exc:
            status, payload = CONNECT_ERROR, f"{type(exc).__name__}: {exc}".encode()
        t1 = time.monotonic()
        records.append((t1, t1 - t0, status))
        if status != 201 and len(samples.setdefault(status, [])) < SAMPLES_PER_STATUS:
            samples[status].append(payload[:2000].decode("utf-8", "replace"))
    cpu_s = time.process_time() - cpu_started  # the requests' CPU, start-up left out
    results.put(
        {"index": index, "start": start, "records": records, "samples": samples, "cpu_s": cpu_s}
    )


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (0 for an empty list)."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), math.ceil(q / 100 * len(sorted_values))))
    return sorted_values[rank - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description="Order capture load generator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--key-file", type=Path, required=True)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--max-error-rate", type=float, default=0.001)
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--records-out", type=Path, help="CSV of every request (for plots)")
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="paced (open-loop) total orders/s over all clients; 0 = back to back (closed loop)",
    )
    parser.add_argument("--tag", default="bench", help="external_id prefix of the orders")
    args = parser.parse_args()
    interval = args.clients / args.rate if args.rate > 0 else 0.0

    key = args.key_file.read_text().strip()
    run_id = uuid.uuid4().hex[:12]
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(args.clients + 1)  # the workers and this process
    results = ctx.Queue()
    procs = [
        ctx.Process(
            target=worker,
            args=(
                i,
                args.host,
                args.port,
                key,
                args.skus,
                run_id,
                args.warmup,
                args.duration,
                barrier,
                results,
                args.tag,
                interval,
                i * interval / args.clients,
            ),
            daemon=True,
        )
        for i in range(args.clients)
    ]
    for p in procs:
        p.start()
    barrier.wait(timeout=120)
    collected = []
    deadline = time.monotonic() + args.warmup + args.duration + 180
    while len(collected) < len(procs) and time.monotonic() < deadline:
        try:
            collected.append(results.get(timeout=1.0))
        except queue.Empty:
            if not any(p.is_alive() for p in procs):
                # A worker died without reporting (its traceback is on stderr). Take what the
                # others flushed before exiting, then stop waiting.
                while True:
                    try:
                        collected.append(results.get(timeout=1.0))
                    except queue.Empty:
                        break
                break
    for p in procs:
        p.join(timeout=10)
    if len(collected) < len(procs):
        print(
            f"load generator: only {len(collected)} of {len(procs)} workers reported",
            file=sys.stderr,
        )
        return 2

    # All workers start at the barrier (within a few ms); the window is fixed from the earliest.
    start = min(c["start"] for c in collected)
    window_start, window_end = start + args.warmup, start + args.warmup + args.duration
    all_records = [r for c in collected for r in c["records"]]
    measured = [r for r in all_records if window_start <= r[0] < window_end]
    ok_latencies = sorted(lat * 1000 for _, lat, status in measured if status == 201)
    all_latencies = sorted(lat * 1000 for _, lat, _status in measured)
    measured_errors = Counter(status for _, _, status in measured if status != 201)
    total_errors = Counter(status for _, _, status in all_records if status != 201)
    created_total = sum(1 for _, _, status in all_records if status == 201)
    samples: dict[int, list[str]] = {}
    for c in collected:
        for status, bodies in c["samples"].items():
            samples.setdefault(status, []).extend(bodies)

    orders_per_s = len(ok_latencies) / args.duration
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the joined worker processes
    client_cpu_s = usage.ru_utime + usage.ru_stime
    request_cpu_ms = sum(c["cpu_s"] for c in collected) * 1000 / max(1, len(all_records))
    error_rate = sum(total_errors.values()) / len(all_records) if all_records else 1.0
    result = {
        "clients": args.clients,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "requests_measured": len(measured),
        "created_measured": len(ok_latencies),
        "orders_per_s": round(orders_per_s, 1),
        "p50_ms": round(percentile(ok_latencies, 50), 2),
        "p95_ms": round(percentile(ok_latencies, 95), 2),
        "p99_ms": round(percentile(ok_latencies, 99), 2),
        "max_ms": round(ok_latencies[-1], 2) if ok_latencies else 0.0,
        "p50_all_ms": round(percentile(all_latencies, 50), 2),
        "errors_measured": {str(k): v for k, v in sorted(measured_errors.items())},
        "requests_total": len(all_records),
        "created_total": created_total,
        "errors_total": {str(k): v for k, v in sorted(total_errors.items())},
        "error_rate": round(error_rate, 6),
        "max_error_rate": args.max_error_rate,
        "client_cpu_s": round(client_cpu_s, 2),
        "client_cpu_ms_per_request": round(request_cpu_ms, 3),
    }

    def fmt_errors(errors: Counter[int]) -> str:
        if not errors:
            return "none"
        return ", ".join(
            f"{'conn' if s == CONNECT_ERROR else s}: {n}" for s, n in sorted(errors.items())
        )

    paced = f", paced at {args.rate:.1f} orders/s" if args.rate > 0 else ""
    print(
        f"oms capture: {args.clients} clients{paced}, {args.duration:g} s measured "
        f"(+{args.warmup:g} s warm-up), POST /api/v1/orders/ with 3 lines"
    )
    print(f"  requests:  {len(measured)} in the window, {len(ok_latencies)} x 201")
    print(f"  orders/s:  {orders_per_s:.1f}")
    busy = client_cpu_s / ((args.warmup + args.duration) * (os.cpu_count() or 1))
    print(
        f"  client:    {client_cpu_s:.1f} s CPU in {args.clients} processes = {busy:.0%} of "
        f"the machine's {os.cpu_count()} cores over the run (not available to the server); "
        f"{request_cpu_ms:.2f} ms a request"
    )
    print(
        f"  latency:   p50={result['p50_ms']:.1f} ms  p95={result['p95_ms']:.1f} ms  "
        f"p99={result['p99_ms']:.1f} ms  max={result['max_ms']:.1f} ms  (201s only)"
    )
    print(
        f"  errors:    {fmt_errors(measured_errors)} (window); "
        f"{fmt_errors(total_errors)} (whole run incl. warm-up: "
        f"{sum(total_errors.values())} of {len(all_records)} = {error_rate:.3%})"
    )
    for status, bodies in sorted(samples.items()):
        distinct = dict.fromkeys(" ".join(body.split())[:500] for body in bodies)
        for body in list(distinct)[:SAMPLES_PER_STATUS]:
            print(f"  sample {'conn' if status == CONNECT_ERROR else status} response: {body}")
    if args.json_out:
        args.json_out.write_text(json.dumps(result))
    if args.records_out:
        with args.records_out.open("w") as out:
            out.write("client,completed_s,latency_ms,status\n")
            for c in collected:
                for done, latency, status in c["records"]:
                    out.write(f"{c['index']},{done - start:.4f},{latency * 1000:.2f},{status}\n")
    if error_rate > args.max_error_rate:
        print(f"  FAIL: error rate {error_rate:.3%} > {args.max_error_rate:.3%}")
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
