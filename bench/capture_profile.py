"""In-process order-capture profile: the SQL statements of one POST /api/v1/orders/ and the
time of N captures through the whole WSGI stack (middleware, DRF, capture, on_commit publish),
with no HTTP server and no client processes in the way.

Run against a database seeded by bench/setup_data.py (not `make bench`'s, which it drops):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms_capprof REDIS_URL=redis://127.0.0.1:6379/4 \
    OMS_ALLOW_INSECURE_KEY=1 DJANGO_DEBUG=0 .venv/bin/python bench/capture_profile.py \
        --key-file KEY --orders 300 [--list-queries] [--cprofile 40]

It prints the statements of the first capture (with --list-queries), then captures/s and
p50/p99 per request over --orders captures. Only numbers from one session compare: run two
versions of the code one after the other, alternating, on the same database.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path.cwd()))
sys.path.insert(1, str(ROOT / "bench"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--key-file", required=True, type=Path)
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--list-queries", action="store_true")
    parser.add_argument("--cprofile", type=int, default=0, help="print the top N functions")
    parser.add_argument(
        "--cpu-clock",
        action="store_true",
        help="profile with this process's CPU clock (time.process_time), not wall time: on a "
        "loaded machine the wall-clock profile is mostly waiting",
    )
    parser.add_argument("--label", default="")
    parser.add_argument("--pstats-out", type=Path, help="write the cProfile stats to this file")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
    import django

    django.setup()

    from capture_load import order_body
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    key = args.key_file.read_text().strip()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    rng = random.Random(os.getpid())
    run = uuid.uuid4().hex[:8]

    def post(i: int) -> int:
        external_id = f"PROF-{run}-{i}"
        body = json.dumps(order_body(rng, external_id, args.skus))
        response = client.post(
            "/api/v1/orders/",
            body,
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=f"{external_id}-{uuid.uuid4().hex}",
        )
        if response.status_code != 201:
            raise SystemExit(f"{response.status_code}: {response.content[:500]!r}")
        return response.status_code

    for i in range(args.warmup):
        post(-1 - i)
    # As the gunicorn workers do after start-up (oms/core/process_tuning.py): the start-up heap
    # is skipped by the collector, so its pauses do not land on a measured request.
    from oms.core.process_tuning import freeze_startup_heap

    freeze_startup_heap()

    with CaptureQueriesContext(connection) as ctx:
        post(10**9)
    print(f"{args.label}statements per capture: {len(ctx.captured_queries)}")
    if args.list_queries:
        for n, q in enumerate(ctx.captured_queries, 1):
            print(f"  {n:2}. {q['sql'][:160]}")

    profiler = None
    if args.cprofile:
        import cProfile

        profiler = cProfile.Profile(time.process_time) if args.cpu_clock else cProfile.Profile()
        profiler.enable()
    times = []
    cpu_started = time.process_time()
    started = time.perf_counter()
    for i in range(args.orders):
        t0 = time.perf_counter()
        post(i)
        times.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    if profiler is not None:
        import pstats

        profiler.disable()
        if args.pstats_out:
            profiler.dump_stats(str(args.pstats_out))
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.cprofile)
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    print(
        f"{args.label}{args.orders} captures in {elapsed:.2f} s: {args.orders / elapsed:.1f}/s, "
        f"p50 {statistics.median(times) * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms, "
        f"{cpu / args.orders * 1000:.2f} ms of this process's CPU per capture (less noisy "
        f"than wall time on a shared machine)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
