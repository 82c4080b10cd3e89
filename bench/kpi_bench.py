"""KPI query benchmark: generate N orders of history with SQL (INSERT ... SELECT
generate_series) in a database of its own, then time every dashboard query and the whole
dashboard build (p50 of RUNS runs) over the default 14-day window: the raw report over the
whole window and the report the dashboard uses (daily rollups of the past days, built first as
the beat task keeps them, and today's rows), and PASS/FAIL for the whole dashboard <= 200 ms.

    .venv/bin/python bench/kpi_bench.py                   # KPI_ORDERS or 200,000 orders
    KPI_ORDERS=1000000 .venv/bin/python bench/kpi_bench.py
    KPI_DB=oms_kpi_bench .venv/bin/python bench/kpi_bench.py --reuse --explain

The database (KPI_DB, default oms_kpibench) is dropped and re-created each run, unless --reuse
finds it already generated (then it is only migrated, vacuumed and analysed, so the same
history can be timed again, e.g. before and after a change). --explain prints
EXPLAIN (ANALYZE, BUFFERS) of each PostgreSQL KPI query first.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD_LIMIT_MS = 200


def sh(*cmd: str, env: dict[str, str] | None = None) -> None:
    subprocess.run(cmd, check=True, cwd=ROOT, env=env)  # noqa: S603


def setup_database(db: str) -> None:
    sh("dropdb", "--if-exists", "--force", db)
    sh("createdb", db)
    migrate()


def migrate() -> None:
    sh(sys.executable, "manage.py", "migrate", "--no-input", "-v", "0", env=os.environ.copy())


def generated_orders(db: str) -> int:
    """Orders in an existing bench database, 0 when there is none."""
    out = subprocess.run(  # noqa: S603
        ["psql", "-AtX", "-d", db, "-c", "SELECT count(*) FROM orders_order"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    return int(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip() else 0


def vacuum_analyze() -> None:
    from django.db import connection

    connection.ensure_connection()
    connection.connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def generate(n: int) -> None:
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from inventory.models import Node, Product, StockLevel
    from orders.models import Channel

    channels = [Channel.objects.create(code=c, name=c.title()) for c in ("web", "pos", "market")]
    nodes = Node.objects.bulk_create(
        Node(code=f"kb-{i:02d}", name=f"Bench node {i}", kind="dc", latitude=40, longitude=-80)
        for i in range(50)
    )
    products = Product.objects.bulk_create(
        Product(sku=f"KB-{i:04d}", name=f"Bench product {i}") for i in range(100)
    )
    now = timezone.now()
    StockLevel.objects.bulk_create(
        StockLevel(
            node=node,
            product=p,
            on_hand=100,
            last_reported_at=now - timedelta(minutes=7 * i + j),
        )
        for i, node in enumerate(nodes)
        for j, p in enumerate(products)
    )
    ch = "ARRAY[" + ",".join(str(c.pk) for c in channels) + "]"
    node0, prod0 = nodes[0].pk, products[0].pk
    # placed_at spread over a year, deterministic per g; 5 % cancelled; 10 % split in two
    # fulfillment orders; shipped 2-72 h after placement, unless that is still in the future.
    steps = [
        (
            "orders",
            f"""
        INSERT INTO orders_order (id, created_at, updated_at, public_id, number, external_id,
            status, payment_status, payment_reference, payment_method, placed_at, currency,
            subtotal, shipping_total, discount_total, tax_total, grand_total, customer_name,
            customer_email, customer_phone, delivery_method, service_level, ship_name,
            ship_line1, ship_line2, ship_city, ship_region, ship_postal_code, ship_country,
            billing_address, notes, cancel_reason, channel_id, internal_notes, is_legacy_mirror,
            owner)
        SELECT g, p, p, gen_random_uuid(), 'KB-' || g, 'X-' || g,
            CASE WHEN g % 20 = 0 THEN 'cancelled' ELSE 'shipped' END, 'paid', '', '', p, 'USD',
            30, 5, 0, 2, 37, 'Bench Customer', 'c' || g || '@example.com', '', 'ship',
            'standard', 'Bench Customer', '1 Main St', '', 'Columbus', 'OH', '43215', 'US',
            '{{}}', '', '', ({ch})[1 + g % 3], '', false, 'oms'
        FROM (SELECT g, now() - ((g::bigint * 7919) % 525600) * interval '1 minute' AS p
              FROM generate_series(1, {n}) g) s""",
        ),
        (
            "lines",
            f"""
        INSERT INTO orders_orderline (created_at, updated_at, line_number, external_line_id,
            sku, name, quantity, unit_price, discount, tax, total, status, order_id, product_id,
            cancelled_quantity)
        SELECT o.placed_at, o.placed_at, l, '', 'KB-' || lpad(((o.id + l) % 100)::text, 4, '0'),
            'Bench product', 1, 10, 0, 0, 10, 'shipped', o.id, {prod0} + (o.id + l) % 100, 0
        FROM orders_order o, generate_series(1, 1 + (o.id % 3)::int) l""",
        ),
        (
            "fulfillment orders",
            f"""
        INSERT INTO fulfillment_fulfillmentorder (created_at, updated_at, number, status,
            delivery_method, service_level, ship_by, shipped_at, close_reason, pickup_code,
            node_reference, release_attempts, last_release_error, node_id, order_id,
            pickup_failed_attempts)
        SELECT s.placed_at, s.placed_at, 'KB-' || s.id || '/' || k,
            CASE WHEN s.ship <= now() THEN 'shipped' ELSE 'released' END, 'ship', 'standard',
            s.placed_at + interval '48 hours', CASE WHEN s.ship <= now() THEN s.ship END,
            '', '', '', 1, '', {node0} + (s.id + k) % 50, s.id, 0
        FROM (SELECT o.id, o.placed_at, k,
                     o.placed_at + (2 + (o.id * 31) % 70 + 12 * (k - 1)) * interval '1 hour'
                       AS ship
              FROM orders_order o, generate_series(1, CASE WHEN o.id % 10 = 3 THEN 2 ELSE 1 END) k
              WHERE o.status <> 'cancelled') s""",
        ),
        (
            "events",
            """
        INSERT INTO events_event (event_id, stream, seq, type, schema_version, actor_kind,
            actor_id, actor_label, correlation_id, payload, occurred_at)
        SELECT gen_random_uuid(), 'order:KB-' || e.oid, e.seq, e.type, 1, 'system', '',
            'bench', '', '{}', e.at
        FROM (
            SELECT id AS oid, 1 AS seq, 'order.created' AS type, placed_at AS at
              FROM orders_order
            UNION ALL SELECT id, 2, 'order.backordered', placed_at + interval '1 minute'
              FROM orders_order WHERE id % 17 = 0
            UNION ALL SELECT id, 3, 'order.manual_touch', placed_at + interval '3 hours'
              FROM orders_order WHERE id % 50 = 0
            UNION ALL SELECT order_id, 9 + id % 2 + 1, 'fulfillment.shipped', shipped_at
              FROM fulfillment_fulfillmentorder WHERE shipped_at IS NOT NULL
        ) e ORDER BY e.at""",
        ),
    ]
    with connection.cursor() as cursor:
        for name, sql in steps:
            started = time.perf_counter()
            cursor.execute(sql)
            elapsed = time.perf_counter() - started
            print(f"  {name:<20} {cursor.rowcount:>10,} rows  {elapsed:6.1f} s")
        cursor.execute("SELECT setval(pg_get_serial_sequence('orders_order', 'id'), %s)", [n])
        # The relay's steady state: everything but the newest 1,000 events dispatched.
        cursor.execute(
            "INSERT INTO integrations_eventdispatch (event_id, dispatched_at, deliveries)"
            " SELECT max(id) - 1000, now() - interval '2 hours', 0 FROM events_event"
        )
    vacuum_analyze()


def timed(func: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        func()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def explain() -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of each PostgreSQL KPI query, as the selectors run it."""
    from unittest import mock

    from django.db import connection, transaction

    from ops.kpis import selectors

    run = selectors._rows

    def explained(sql: str, params: dict) -> list:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            print("\n".join("    " + row[0] for row in cursor.fetchall()))
        return run(sql, params)

    t0, t1 = selectors.bounds(*selectors.date_range())
    with mock.patch.object(selectors, "_rows", explained):
        for name in (
            "orders_captured",
            "orders_backordered",
            "manual_touches",
            "order_shipping",
            "on_time_shipping",
        ):
            print(f"\n  EXPLAIN {name}")
            getattr(selectors, name)(t0, t1)


def build_rollups() -> float:
    """The daily rollups of the dashboard's past days, as the beat task keeps them (history
    generated with SQL records no events the task would see). Returns seconds taken."""
    from datetime import timedelta

    from ops.kpis import rollups, selectors

    start, end = selectors.date_range()
    started = time.perf_counter()
    rollups.rebuild(start, end - timedelta(days=1))
    return time.perf_counter() - started


def measure(runs: int) -> dict[str, float]:
    from ops.kpis import selectors, sources
    from ops.kpis.dashboard import build_dashboard

    start, end = selectors.date_range()
    t0, t1 = selectors.bounds(start, end)
    queries: dict[str, Callable[[], object]] = {
        "KPI report, raw (14 days)": lambda: selectors.kpi_report_raw(start, end),
        "KPI report, rollups + today": lambda: selectors.kpi_report(start, end),
        "orders captured + cancelled": lambda: selectors.orders_captured(t0, t1),
        "backordered orders": lambda: selectors.orders_backordered(t0, t1),
        "manual touches": lambda: selectors.manual_touches(t0, t1),
        "order-to-ship p50/p90 + split": lambda: selectors.order_shipping(t0, t1),
        "on-time ship rate": lambda: selectors.on_time_shipping(t0, t1),
        "inventory feed lag (50 nodes)": selectors.inventory_feed_lag,
        "open exceptions + resolution": lambda: selectors.exception_figures(start, end),
        "webhook success + queue depth": lambda: selectors.webhook_figures(start, end),
        "outbox backlog": sources.outbox_backlog,
        "WHOLE DASHBOARD": build_dashboard,
    }
    return {name: timed(func, runs) for name, func in queries.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=int(os.environ.get("KPI_ORDERS", 200_000)))
    parser.add_argument("--db", default=os.environ.get("KPI_DB", "oms_kpibench"))
    parser.add_argument("--runs", type=int, default=int(os.environ.get("KPI_RUNS", 5)))
    parser.add_argument(
        "--reuse", action="store_true", help="time the history already in --db, if any"
    )
    parser.add_argument("--explain", action="store_true", help="print the query plans first")
    args = parser.parse_args()

    host = os.environ.get("PGHOST", "127.0.0.1")
    port = os.environ.get("PGPORT", "5432")
    user = os.environ.get("PGUSER", "postgres")
    os.environ.update(
        PGHOST=host,
        PGPORT=port,
        PGUSER=user,
        DATABASE_URL=f"postgres://{user}@{host}:{port}/{args.db}",
        DJANGO_SETTINGS_MODULE="oms.settings",
        OMS_ALLOW_INSECURE_KEY="1",
        CELERY_TASK_ALWAYS_EAGER="1",
        REDIS_URL="",
        CELERY_BROKER_URL="",
    )
    sys.path.insert(0, str(ROOT))
    existing = generated_orders(args.db) if args.reuse else 0
    if existing:
        print(f"== KPI bench: reusing the {existing:,} orders in database {args.db}")
        migrate()
        import django

        django.setup()
        vacuum_analyze()
    else:
        print(f"== KPI bench: {args.orders:,} orders in database {args.db}")
        setup_database(args.db)
        import django

        django.setup()
        started = time.perf_counter()
        generate(args.orders)
        print(f"  generated and analysed in {time.perf_counter() - started:.0f} s")

    # With the schema's own indexes (docs/observability.md, "Indexes").
    if args.explain:
        explain()
    print(f"  rollups of the dashboard's past days built in {build_rollups():.1f} s")
    timings = measure(args.runs)
    print(f"\n  p50 of {args.runs} runs, ms")
    for name, ms in timings.items():
        print(f"  {name:<32} {ms:>10.1f}")
    orders = generated_orders(args.db)
    whole = timings["WHOLE DASHBOARD"]
    verdict = "PASS" if whole <= DASHBOARD_LIMIT_MS else "FAIL"
    print(
        f"  KPI dashboard at {orders:,} orders <= {DASHBOARD_LIMIT_MS} ms (issue 17, at 1M):"
        f"  {verdict}  {whole:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
