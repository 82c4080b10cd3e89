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
import gc
import json
import os
import pstats
import random
import statistics
import sys
import time
import uuid
from contextlib import nullcontext
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
    parser.add_argument("--sort", default="cumulative", help="cProfile's order (e.g. tottime)")
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
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    # Time spent in the garbage collector while route_order runs (gc.callbacks).
    gc_state = {"start": 0.0, "spent": 0.0, "on": False, "max": 0.0, "full": 0}

    def _gc_callback(phase: str, info: dict) -> None:
        if not gc_state["on"]:
            return
        if phase == "start":
            gc_state["start"] = time.perf_counter()
        else:
            pause = time.perf_counter() - gc_state["start"]
            gc_state["spent"] += pause
            gc_state["max"] = max(gc_state["max"], pause)
            gc_state["full"] += info["generation"] == 2

    gc.callbacks.append(_gc_callback)
    for size in [int(s) for s in args.sizes.split(",")]:
        wall: list[float] = []
        cpu: list[float] = []
        statements: list[int] = []
        backend_cpu = gc_ms = 0.0
        gc_hits = 0
        gc_state.update(max=0.0, full=0)
        for k in range(args.warmup + args.orders):
            data = routing_bench.bench_order(
                rng, zips, sample, size, f"routeprof-{run_id}-{size}-{k}", "Routing Profile"
            )
            order = capture_order(channel=channel, data=data, actor=actor)
            timed = k >= args.warmup
            # The statements are counted on the untimed warm-up orders (and the one listed):
            # Django's query log (a debug cursor) would add its own cost to the timed ones, which
            # run as in bench/routing_bench.py.
            counted = not timed or (args.list_queries and k == args.warmup)
            with CaptureQueriesContext(connection) if counted else nullcontext() as queries:
                if profiler is not None and timed:
                    profiler.enable()
                b0 = _backend_cpu(backend)
                gc_state.update(spent=0.0, on=True)
                c0, t0 = time.process_time(), time.perf_counter()
                decision = route_order(order_id=order.pk, actor=actor)
                t1, c1 = time.perf_counter(), time.process_time()
                gc_state["on"] = False
                b1 = _backend_cpu(backend)
                if profiler is not None and timed:
                    profiler.disable()
            if decision is None:
                raise SystemExit(f"route_order routed nothing for fresh order {order.number}")
            if counted and k >= args.warmup // 2:
                statements.append(len(queries.captured_queries))
            if args.list_queries and k == args.warmup:
                print(f"-- statements of one route_order, {size} lines ({decision.outcome}):")
                for q in queries.captured_queries:
                    print(f"  [{float(q['time']) * 1000:6.2f} ms] {q['sql'][:300]}")
            if timed:
                wall.append((t1 - t0) * 1000)
                cpu.append((c1 - c0) * 1000)
                backend_cpu += b1 - b0
                gc_ms += gc_state["spent"] * 1000
                gc_hits += gc_state["spent"] > 0
        wall.sort()
        cpu.sort()
        row = {
            "n": len(wall),
            "statements_median": statistics.median(statements),
            "statements_max": max(statements),
            "wall_p50_ms": round(routing_bench.percentile(wall, 50), 2),
            "wall_p90_ms": round(routing_bench.percentile(wall, 90), 2),
            "wall_p99_ms": round(routing_bench.percentile(wall, 99), 2),
            "cpu_p50_ms": round(routing_bench.percentile(cpu, 50), 2),
            "cpu_mean_ms": round(statistics.mean(cpu), 2),
            "cpu_p99_ms": round(routing_bench.percentile(cpu, 99), 2),
            # The PostgreSQL backend's CPU (from /proc, clock ticks: a mean over many orders).
            "backend_cpu_mean_ms": round(backend_cpu / len(wall) * 1000, 2),
            "gc_ms_per_order": round(gc_ms / len(wall), 3),
            "orders_with_gc": gc_hits,
            "gc_max_ms": round(gc_state["max"] * 1000, 2),
            "gc_full_collections": gc_state["full"],
        }
        report["sizes"][str(size)] = row
        print(
            f"{args.label or 'route_order'} {size:>2} lines: statements {row['statements_median']}"
            f" (max {row['statements_max']}), wall p50/p99 {row['wall_p50_ms']}/"
            f"{row['wall_p99_ms']} ms, process CPU p50 {row['cpu_p50_ms']} ms "
            f"(mean {row['cpu_mean_ms']}, p99 {row['cpu_p99_ms']}), PostgreSQL backend CPU "
            f"mean {row['backend_cpu_mean_ms']} ms, GC {row['gc_ms_per_order']} ms/order "
            f"({row['orders_with_gc']} orders, longest {row['gc_max_ms']} ms, "
            f"{row['gc_full_collections']} full), n={row['n']}"
        )
    if profiler is not None:
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.cprofile)
    print(json.dumps(report))
    return 0


def _backend_cpu(pid: int) -> float:
    """CPU seconds a PostgreSQL backend on this machine has used so far (bench/proc_cpu.py)."""
    from proc_cpu import cpu_seconds  # bench/ is on sys.path (above)

    return cpu_seconds(pid)


if __name__ == "__main__":
    sys.exit(main())
