"""In-process availability profile: the SQL statements of one GET /api/v1/availability/ and the
CPU of N requests through the whole WSGI stack (middleware, API-key auth, rate limit, view),
with no HTTP server and no client processes in the way.

Run against a database seeded by bench/setup_data.py (not `make bench`'s, which it drops); the
first run adds the routing bench's 200-node network (bench/routing_bench.py, same seed):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms_availprof \
    REDIS_URL=redis://127.0.0.1:6379/9 OMS_ALLOW_INSECURE_KEY=1 DJANGO_DEBUG=0 \
    .venv/bin/python bench/availability_profile.py --key-file KEY --requests 500 \
        [--list-queries] [--cprofile 40]

It prints the statements of one request (with --list-queries), then requests/s, p50/p99 and the
process CPU per request. Only numbers from one session compare: the machine is shared, so run
two versions of the code one after the other on the same database.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path.cwd()))
sys.path.insert(1, str(ROOT / "bench"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--key-file", required=True, type=Path)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--skus", type=int, default=10_000, help="bench SKUs seeded")
    parser.add_argument("--sample", type=int, default=300, help="SKUs the network stocks")
    parser.add_argument("--seed", type=int, default=20250301)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--list-queries", action="store_true")
    parser.add_argument("--cprofile", type=int, default=0, help="print the top N functions")
    parser.add_argument("--label", default="")
    parser.add_argument("--pstats-out", type=Path, help="write the cProfile stats to this file")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
    import django

    django.setup()

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from routing_bench import (
        AVAILABILITY_POSTAL_CODE,
        AVAILABILITY_SKUS,
        build_network,
        contiguous_zips,
        sku,
    )

    from inventory.models import Node

    rng = random.Random(args.seed)
    zips = contiguous_zips()
    sample = [sku(i) for i in sorted(rng.sample(range(1, args.skus + 1), args.sample))]
    if not Node.objects.filter(code="rb-dc-1").exists():
        build_network(rng, zips, sample)
        print("built the routing bench's network (200 nodes)")

    key = args.key_file.read_text().strip()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    pick = random.Random(1)

    def get() -> bytes:
        query = [("sku", s) for s in pick.sample(sample, AVAILABILITY_SKUS)]
        query += [("postal_code", AVAILABILITY_POSTAL_CODE), ("country", "US")]
        response = client.get(f"/api/v1/availability/?{urlencode(query)}")
        if response.status_code != 200:
            raise SystemExit(f"{response.status_code}: {response.content[:500]!r}")
        return response.content

    for _ in range(args.warmup):
        get()
    # As the gunicorn workers do after start-up (oms/core/process_tuning.py): the start-up heap
    # is skipped by the collector, so its pauses do not land on a measured request.
    from oms.core.process_tuning import freeze_startup_heap

    freeze_startup_heap()
    with CaptureQueriesContext(connection) as ctx:
        body = get()
    print(
        f"{args.label}statements per availability request: {len(ctx.captured_queries)} "
        f"({len(body)} bytes answered)"
    )
    if args.list_queries:
        for n, q in enumerate(ctx.captured_queries, 1):
            print(f"  {n:2}. {q['sql'][:200]}")

    profiler = None
    if args.cprofile:
        import cProfile

        profiler = cProfile.Profile(time.process_time)  # CPU, not waits
        profiler.enable()
    times = []
    cpu_started = time.process_time()
    started = time.perf_counter()
    for _ in range(args.requests):
        t0 = time.perf_counter()
        get()
        times.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    if profiler is not None:
        import pstats

        profiler.disable()
        if args.pstats_out:
            profiler.dump_stats(str(args.pstats_out))
        pstats.Stats(profiler).sort_stats("tottime").print_stats(args.cprofile)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.cprofile)
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    print(
        f"{args.label}{args.requests} requests in {elapsed:.2f} s: "
        f"{args.requests / elapsed:.1f}/s, p50 {statistics.median(times) * 1000:.2f} ms, "
        f"p99 {p99 * 1000:.2f} ms, {cpu / args.requests * 1000:.2f} ms of this process's CPU "
        f"per request (less noisy than wall time on a shared machine)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
