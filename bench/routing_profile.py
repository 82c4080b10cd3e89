"""In-process route_order profile: the SQL statements of one route_order and, over N fresh
orders per size, the wall time and the process CPU time of each route_order (the whole
transaction: lock, load, plan, reserve, record, commit), optionally with cProfile.

Run against a database seeded by bench/setup_data.py (not `make bench`'s, which it drops); the
first run adds bench/routing_bench.py's network of 200 nodes (same seed) if it is not there:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms_routeprof REDIS_URL=... \
    .venv/bin/python bench/routing_profile.py --orders 100 --sizes 3 [--list-queries] \
        [--cprofile 40 [--cpu-clock]]

The code measured is that of the current directory (sys.path[0] is the working directory), so
two checkouts compare by running this script from each, alternating, on the same database.
Only numbers from one session compare: the machine is shared.
"""

import argparse
import cProfile
import json
import os
import pstats
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
    parser.add_argument("--orders", type=int, default=100, help="timed orders per size")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--sizes", default="1,3,10")
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20250301)
    parser.add_argument("--list-queries", action="store_true")
    parser.add_argument("--cprofile", type=int, default=0, help="print the top N functions")
    parser.add_argument("--cpu-clock", action="store_true", help="profile CPU, not wall time")
    parser.add_argument("--label", default="")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
    import django

    django.setup()

    import routing_bench
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fulfillment.services.routing import route_order
    from inventory.models import Node
    from oms.core.actors import Actor
    from oms.core.process_tuning import freeze_startup_heap
    from orders.models import Channel
    from orders.services.capture import capture_order

    rng = random.Random(args.seed)
    zips = routing_bench.contiguous_zips()
    sample = [
        routing_bench.sku(i) for i in sorted(rng.sample(range(1, args.skus + 1), args.sample))
    ]
    if not Node.objects.filter(code__startswith="rb-").exists():
        print("building the routing bench network ...", file=sys.stderr)
        routing_bench.build_network(rng, zips, sample)
    freeze_startup_heap()
    rng = random.Random(f"{args.label}-{time.time()}")
    actor = Actor.system("bench")
    channel = Channel.objects.get(code="web")
    run_id = uuid.uuid4().hex[:8]
    profiler = (
        (cProfile.Profile(time.process_time) if args.cpu_clock else cProfile.Profile())
        if args.cprofile
        else None
    )
    report = {"label": args.label, "sizes": {}}
    for size in [int(s) for s in args.sizes.split(",")]:
        wall: list[float] = []
        cpu: list[float] = []
        statements: list[int] = []
        for k in range(args.warmup + args.orders):
            data = routing_bench.bench_order(
                rng, zips, sample, size, f"routeprof-{run_id}-{size}-{k}", "Routing Profile"
            )
            order = capture_order(channel=channel, data=data, actor=actor)
            timed = k >= args.warmup
            with CaptureQueriesContext(connection) as queries:
                if profiler is not None and timed:
                    profiler.enable()
                c0, t0 = time.process_time(), time.perf_counter()
                decision = route_order(order_id=order.pk, actor=actor)
                t1, c1 = time.perf_counter(), time.process_time()
                if profiler is not None and timed:
                    profiler.disable()
            if decision is None:
                raise SystemExit(f"route_order routed nothing for fresh order {order.number}")
            if args.list_queries and k == args.warmup:
                print(f"-- statements of one route_order, {size} lines ({decision.outcome}):")
                for q in queries.captured_queries:
                    print(f"  [{float(q['time']) * 1000:6.2f} ms] {q['sql'][:300]}")
            if timed:
                wall.append((t1 - t0) * 1000)
                cpu.append((c1 - c0) * 1000)
                statements.append(len(queries.captured_queries))
        wall.sort()
        cpu.sort()
        row = {
            "n": len(wall),
            "statements_median": statistics.median(statements),
            "statements_max": max(statements),
            "wall_p50_ms": round(routing_bench.percentile(wall, 50), 2),
            "wall_p99_ms": round(routing_bench.percentile(wall, 99), 2),
            "cpu_p50_ms": round(routing_bench.percentile(cpu, 50), 2),
            "cpu_mean_ms": round(statistics.mean(cpu), 2),
        }
        report["sizes"][str(size)] = row
        print(
            f"{args.label or 'route_order'} {size:>2} lines: statements {row['statements_median']}"
            f" (max {row['statements_max']}), wall p50/p99 {row['wall_p50_ms']}/"
            f"{row['wall_p99_ms']} ms, process CPU p50 {row['cpu_p50_ms']} ms "
            f"(mean {row['cpu_mean_ms']}), n={row['n']}"
        )
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.cprofile)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
