"""In-process orchestration profile: the SQL statements and this process's CPU per order for
what the Celery worker does after capture, with no broker round trip in the way:
orchestrate_order_task (route, fulfillment orders, release) and release_fulfillment for each
fulfillment order it left pending with a release task scheduled (the connector send and the
recorded release).

Run against a database seeded by bench/setup_data.py with bench-dc on the API connector (as
bench/e2e_bench.py sets it), with Celery not eager (the release tasks it schedules go to the
broker and are not run; this script runs them in-process instead):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms_capprof REDIS_URL=redis://127.0.0.1:6379/4 \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/4 CELERY_TASK_ALWAYS_EAGER=0 \
    OMS_ALLOW_INSECURE_KEY=1 DJANGO_DEBUG=0 .venv/bin/python bench/orchestrate_profile.py \
        --orders 200 [--list-queries] [--cprofile 40 --cpu-clock]

Only numbers from one session compare: run two versions of the code one after the other.
"""

import argparse
import os
import random
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path.cwd()))
sys.path.insert(1, str(ROOT / "bench"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--list-queries", action="store_true")
    parser.add_argument("--cprofile", type=int, default=0, help="print the top N functions")
    parser.add_argument("--cpu-clock", action="store_true", help="profile CPU, not wall time")
    parser.add_argument("--pstats-out", type=Path)
    parser.add_argument("--label", default="")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
    import django

    django.setup()

    from capture_load import order_body
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fulfillment.models import FulfillmentOrder, FulfillmentStatus
    from fulfillment.services.fulfillment_orders import release_fulfillment
    from fulfillment.tasks import orchestrate_order_task
    from inventory.models import Node
    from oms.core.actors import Actor
    from orders.api.serializers import OrderCreateInputSerializer
    from orders.models import Channel
    from orders.services.capture import capture_order

    Node.objects.filter(code="bench-dc").update(connector="api", is_active=True)
    channel = Channel.objects.get(code="web")
    actor = Actor.system("orchestrate-profile")
    rng = random.Random(os.getpid())
    run = uuid.uuid4().hex[:8]

    def capture(i: int) -> int:
        body = order_body(rng, f"ORCH-{run}-{i}", args.skus)
        serializer = OrderCreateInputSerializer(data=body)
        serializer.is_valid(raise_exception=True)
        order = capture_order(channel=channel, data=serializer.to_order_input(), actor=actor)
        return order.pk

    def orchestrate(order_id: int) -> None:
        orchestrate_order_task(order_id)
        # What is still pending had a release task scheduled (the worker releases inline since
        # the end-to-end work of issue 17; an older checkout schedules one task each).
        for fo_id in FulfillmentOrder.objects.filter(
            order_id=order_id, status=FulfillmentStatus.PENDING
        ).values_list("id", flat=True):
            release_fulfillment(fulfillment_id=fo_id)

    # As the Celery worker processes do at start-up (oms/core/process_tuning.py): the ZIP code
    # areas built and the start-up heap frozen, so neither lands on a measured order.
    from oms.core.process_tuning import freeze_startup_heap

    freeze_startup_heap()
    for i in range(args.warmup):
        orchestrate(capture(-1 - i))

    order_ids = [capture(i) for i in range(args.orders + 1)]
    with CaptureQueriesContext(connection) as ctx:
        orchestrate(order_ids.pop())
    # The profile's own look-up of the fulfillment orders is not the worker's.
    print(f"{args.label}statements per orchestrated order: {len(ctx.captured_queries) - 1}")
    if args.list_queries:
        for n, q in enumerate(ctx.captured_queries, 1):
            print(f"  {n:2}. {q['sql'][:200]}")

    profiler = None
    if args.cprofile:
        import cProfile

        profiler = cProfile.Profile(time.process_time) if args.cpu_clock else cProfile.Profile()
        profiler.enable()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    backend_started = _backend_cpu(backend)
    cpu_started = time.process_time()
    started = time.perf_counter()
    for order_id in order_ids:
        orchestrate(order_id)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    backend_cpu = _backend_cpu(backend) - backend_started
    if profiler is not None:
        import pstats

        profiler.disable()
        if args.pstats_out:
            profiler.dump_stats(str(args.pstats_out))
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.cprofile)
    print(
        f"{args.label}{len(order_ids)} orders orchestrated and released in {elapsed:.2f} s: "
        f"{len(order_ids) / elapsed:.1f}/s, {cpu / len(order_ids) * 1000:.2f} ms of this "
        f"process's CPU per order, {backend_cpu / len(order_ids) * 1000:.2f} ms of its "
        f"PostgreSQL backend's"
    )
    return 0


def _backend_cpu(pid: int) -> float:
    """CPU seconds a PostgreSQL backend on this machine has used so far (bench/proc_cpu.py)."""
    from proc_cpu import cpu_seconds  # bench/ is on sys.path (above)

    return cpu_seconds(pid)


if __name__ == "__main__":
    sys.exit(main())
