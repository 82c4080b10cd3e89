"""Flat with history: capture, routing, availability, an order's trace and the KPI dashboard,
timed on two databases side by side, interleaved: the bench database as the runs before left it
("small": about 20,000 orders, HISTORY_ORDERS) and a copy of it grown to --big orders with
--events-per-order events each ("big", default 1,000,000 orders and 10 events each: 10M events).
Prints the table, the ratio big/small of the p50 per measure and PASS when it is at most 1.15
(issue 17: nothing may degrade by more than 15%), and the KPI dashboard against 200 ms.

Runs last in bench/run.sh, on the bench database as the routing bench left it (its 200-node
network and SKU sample, recomputed here from the same seed). Everything is in-process (Django's
test client through the whole middleware and DRF stack; no HTTP server).

What "more history" means here: the same business, for longer. The added orders are older than
the small database's oldest order, placed at the small history's daily rate (its last 30 days),
3 lines each, in the order number format capture uses, with `--events-per-order` events each,
all of them dispatched by the outbox relay (an `integrations.EventDispatch` row each, as the
relay leaves them), the history's events included in both databases. So the dashboard's 14 days
hold the same orders in both; what differs is everything before them. (A denser business is
another question: bench/kpi_bench.py measures the KPI queries at a given volume.)

How the copy is grown, fast enough for 1M orders / 10M events on 2 cores: one INSERT ... SELECT
per table and chunk, computed by the server (no rows cross the wire, so COPY would add nothing),
with the tables' secondary indexes and unique constraints dropped first and built again after
(CREATE INDEX sorts once; maintaining a 10M-row index row by row is most of the time otherwise),
foreign-key triggers off for the fill (session_replication_role = replica; the rows are made
consistent by construction). Then VACUUM ANALYZE and CHECKPOINT on both databases: PostgreSQL on
this machine runs with autovacuum off, so without it the measures would time stale statistics
and a GIN pending list, which autovacuum keeps flushed in production.

Timing: one connection open to each database, each measure run for run alternately on each
(small, big, then big, small, ...), by making one or the other Django's default connection, so
the machine's noise at any moment falls on both sizes alike; p50 and p99 of the runs. The big
database is dropped at the end (--keep-big keeps it; --reuse-big times a kept one again).
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "bench"))
LIMIT = 1.15
DASHBOARD_LIMIT_MS = 200  # issue 17: the KPI dashboard at 1M orders
GROWN_TABLES = ("orders_order", "orders_orderline", "events_event", "integrations_eventdispatch")
# Crockford base32 without I, L, O, U, as orders/services/capture.py new_order_number().
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# An odd multiplier: g -> g * M mod 2^40 is a bijection, so history numbers never repeat.
NUMBER_MULTIPLIER = 738_916_550_869
HISTORY_EVENT_TYPES = (
    "order.created",
    "order.routed",
    "order.allocated",
    "fulfillment.released",
    "fulfillment.acknowledged",
    "fulfillment.shipped",
    "order.shipped",
    "payment.captured",
    "order.delivered",
    "order.note_added",
)


def pctl(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, int(round(q / 100 * len(values))) - 1))]


def summary(times: list[float]) -> dict[str, float]:
    return {"p50_ms": statistics.median(times), "p99_ms": pctl(times, 99), "n": len(times)}


def scalar(sql: str, params: list[Any] | None = None) -> Any:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(sql, params or [])
        return cur.fetchone()[0]


def use_database(name: str) -> None:
    """Point the default connection at another database of the same server."""
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = name


def autocommit_sql(*statements: str) -> None:
    from django.db import connection

    connection.ensure_connection()
    raw = connection.connection
    previous = raw.autocommit
    raw.autocommit = True
    try:
        with raw.cursor() as cur:
            for sql in statements:
                cur.execute(sql)
    finally:
        raw.autocommit = previous


def settle() -> None:
    """What autovacuum and the checkpointer would have done by now in production."""
    autocommit_sql("VACUUM ANALYZE", "CHECKPOINT")


def dispatch_history() -> int:
    """Mark every event not yet dispatched as fanned out by the outbox relay, as a running relay
    leaves the log (the bench starts none): an EventDispatch row each, dispatched in id order
    (the relay claims by id) two hours ago, so the relay's floor (the newest event dispatched
    more than an hour ago) is the newest event, as in production when the relay keeps up. The
    grown history's events come after the small database's in id, as an import's would."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO integrations_eventdispatch (event_id, dispatched_at, deliveries) "
            "SELECT e.id, now() - interval '2 hours' + e.id * interval '1 microsecond', 0 "
            "FROM events_event e WHERE NOT EXISTS "
            "(SELECT 1 FROM integrations_eventdispatch d WHERE d.event_id = e.id)"
        )
        return cur.rowcount


def copy_database(source: str, target: str) -> None:
    from django.db import connection

    use_database(source)
    connection.ensure_connection()
    autocommit_sql(
        f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)',
        f'CREATE DATABASE "{target}" TEMPLATE "{source}"',
    )
    connection.close()


def drop_database(name: str, via: str) -> None:
    use_database(via)
    autocommit_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _secondary_indexes(table: str) -> list[tuple[str, str, str | None, str | None]]:
    """(index name, CREATE INDEX statement, constraint name, constraint definition) of every
    index of `table` but its primary key."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT ci.relname, pg_get_indexdef(i.indexrelid), c.conname,
                   pg_get_constraintdef(c.oid)
            FROM pg_index i
            JOIN pg_class ci ON ci.oid = i.indexrelid
            LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
            WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
            ORDER BY ci.relname
            """,
            [table],
        )
        return list(cur.fetchall())


def drop_secondary_indexes() -> list[tuple[str, str, str, str | None, str | None]]:
    """Drop the grown tables' secondary indexes (and the unique constraints behind some);
    return what rebuild_indexes() needs to build them again, as they were."""
    dropped = []
    for table in GROWN_TABLES:
        for name, indexdef, conname, condef in _secondary_indexes(table):
            if conname:
                autocommit_sql(f'ALTER TABLE "{table}" DROP CONSTRAINT "{conname}"')
            else:
                autocommit_sql(f'DROP INDEX "{name}"')
            dropped.append((table, name, indexdef, conname, condef))
    return dropped


def rebuild_indexes(dropped: list[tuple[str, str, str, str | None, str | None]]) -> None:
    autocommit_sql("SET maintenance_work_mem = '512MB'")
    for table, _name, indexdef, conname, condef in dropped:
        if conname:
            autocommit_sql(f'ALTER TABLE "{table}" ADD CONSTRAINT "{conname}" {condef}')
        else:
            autocommit_sql(indexdef)


def grow(to: int, events_per_order: int) -> float:
    """Add orders older than the oldest there is, at the history's daily rate over its last 30
    days, until there are `to`: 3 lines and `events_per_order` events each (all dispatched).
    Returns seconds taken (VACUUM ANALYZE and CHECKPOINT included)."""
    from django.db import connection

    started = time.perf_counter()
    have = scalar("SELECT count(*) FROM orders_order")
    if have >= to:
        return 0.0
    channel = scalar("SELECT id FROM orders_channel WHERE code = 'web'")
    with connection.cursor() as cur:
        cur.execute("SELECT min(id), max(id) FROM inventory_product WHERE sku LIKE 'BENCH-%%'")
        p0, p1 = cur.fetchone()
    span = p1 - p0 + 1
    recent = scalar(
        "SELECT count(*) FROM orders_order WHERE placed_at >= now() - interval '30 days'"
    )
    per_day = max(1.0, recent / 30)
    oldest = scalar("SELECT min(placed_at) FROM orders_order")
    base = scalar("SELECT coalesce(max(id), 0) FROM orders_order")
    with connection.cursor() as cur:
        cur.execute("SELECT number FROM orders_order WHERE number LIKE 'OMS-%%'")
        taken = [row[0] for row in cur.fetchall()]
    n = to - have
    seconds_apart = 86400 / per_day
    print(
        f"    {n:,} orders at {per_day:,.0f} a day ({n / per_day / 365:.1f} years) before "
        f"{oldest:%Y-%m-%d}, {events_per_order} events each",
        flush=True,
    )
    number = "'OMS-' || " + " || ".join(
        ("'-' || " if shift == 15 else "") + f"substr('{ALPHABET}', "
        f"(((g * {NUMBER_MULTIPLIER}) %% 1099511627776) >> {shift} & 31)::int + 1, 1)"
        for shift in range(35, -1, -5)
    )
    dropped = drop_secondary_indexes()
    print(f"    {len(dropped)} secondary indexes dropped for the fill", flush=True)
    autocommit_sql("SET session_replication_role = replica")
    try:
        chunk = 100_000
        with connection.cursor() as cur:
            for first in range(1, n + 1, chunk):
                last = min(n, first + chunk - 1)
                cur.execute(
                    f"""
                    INSERT INTO orders_order (id, created_at, updated_at, public_id, number,
                        external_id, status, payment_status, payment_reference, payment_method,
                        placed_at, currency, subtotal, shipping_total, discount_total,
                        tax_total, grand_total, customer_name, customer_email, customer_phone,
                        delivery_method, service_level, ship_name, ship_line1, ship_line2,
                        ship_city, ship_region, ship_postal_code, ship_country,
                        billing_address, notes, cancel_reason, channel_id, internal_notes,
                        is_legacy_mirror, owner)
                    SELECT {base} + g, p, p, gen_random_uuid(), num, 'hb-' || g,
                        'shipped', 'paid', 'hb-' || g, 'card', p, 'USD', 30, 0, 0, 0, 30,
                        'Customer ' || (g %% 50000), 'c' || (g %% 50000) || '@example.com',
                        '+1614555' || lpad((g %% 10000)::text, 4, '0'), 'ship', 'standard',
                        'Customer ' || (g %% 50000), g || ' Main Street', '', 'Columbus', 'OH',
                        '43215', 'US', '{{}}', '', '', {channel}, '', false, 'oms'
                    FROM (SELECT g, {number} AS num,
                                 %s::timestamptz - (g * {seconds_apart}) * interval '1 second' AS p
                          FROM generate_series({first}, {last}) g) s
                    WHERE num <> ALL (%s::text[])
                    """,
                    [oldest, taken],
                )
                cur.execute(
                    f"""
                    INSERT INTO orders_orderline (created_at, updated_at, line_number,
                        external_line_id, sku, name, quantity, cancelled_quantity, unit_price,
                        discount, tax, total, status, order_id, product_id)
                    SELECT o.placed_at, o.placed_at, l, '', p.sku, p.name, 1, 0, 10, 0, 0, 10,
                        'shipped', o.id, p.id
                    FROM orders_order o, generate_series(1, 3) l, inventory_product p
                    WHERE o.id BETWEEN {base} + {first} AND {base} + {last}
                      AND p.id = {p0} + ((o.id * 3 + l) % {span})
                    """
                )
                cur.execute(
                    f"""
                    INSERT INTO events_event (event_id, stream, seq, type, schema_version,
                        actor_kind, actor_id, actor_label, correlation_id, payload, occurred_at)
                    SELECT gen_random_uuid(), 'order:' || o.number, k,
                        (%s::text[])[1 + (k - 1) %% {len(HISTORY_EVENT_TYPES)}], 1,
                        'system', '', 'bench', 'hb-' || o.id,
                        jsonb_build_object('order', o.number, 'seq', k),
                        o.placed_at + (k - 1) * interval '1 hour'
                    FROM orders_order o, generate_series(1, {events_per_order}) k
                    WHERE o.id BETWEEN {base} + {first} AND {base} + {last}
                    ORDER BY o.id, k
                    """,
                    [list(HISTORY_EVENT_TYPES)],
                )
                print(f"    +{last:,} of {n:,} orders", flush=True)
            cur.execute(
                "SELECT setval(pg_get_serial_sequence('orders_order', 'id'), max(id)) "
                "FROM orders_order"
            )
        dispatched = dispatch_history()
        print(f"    {dispatched:,} events marked dispatched", flush=True)
    finally:
        autocommit_sql("SET session_replication_role = DEFAULT")
    t0 = time.perf_counter()
    rebuild_indexes(dropped)
    print(f"    indexes built again in {time.perf_counter() - t0:.0f} s", flush=True)
    settle()
    return time.perf_counter() - started


def build_rollups() -> float:
    """The KPI rollups of the dashboard's past days, as the beat task keeps them: orders added
    with SQL record no events it would see. Returns seconds taken."""
    from datetime import timedelta

    from ops.kpis import rollups, selectors

    started = time.perf_counter()
    start, end = selectors.date_range()
    rollups.rebuild(start, end - timedelta(days=1))
    return time.perf_counter() - started


class Measures:
    """The five measures, each a function of the run number returning milliseconds."""

    def __init__(self, key: str, sample: list[str], zips: list[dict[str, Any]], seeded: int):
        from django.test import Client

        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
        self.rng = random.Random(7)
        self.run = uuid.uuid4().hex[:8]
        self.sample = sample
        self.zips = zips
        # The same orders' traces on both databases (bench/setup_data.py's HIST- orders).
        trace_rng = random.Random(11)
        self.numbers = [f"HIST-{trace_rng.randint(1, seeded):07d}" for _ in range(10_000)]

    def capture(self, i: int) -> float:
        from capture_load import order_body

        body = json.dumps(order_body(self.rng, f"HIST-BENCH-{self.run}-{i}", 10_000))
        t0 = time.perf_counter()
        r = self.client.post(
            "/api/v1/orders/",
            body,
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=f"hb-{self.run}-{i}",
        )
        elapsed = (time.perf_counter() - t0) * 1000
        assert r.status_code == 201, r.content[:300]
        return elapsed

    def route(self, i: int) -> float:
        """route_order of a fresh 3-line order (captured untimed), as routing_bench does."""
        import routing_bench

        from fulfillment.services.routing import route_order
        from oms.core.actors import Actor
        from orders.models import Channel
        from orders.services.capture import capture_order

        data = routing_bench.bench_order(
            self.rng, self.zips, self.sample, 3, f"hist-routing-{self.run}-{i}"
        )
        actor = Actor.system("bench")
        order = capture_order(channel=Channel.objects.get(code="web"), data=data, actor=actor)
        t0 = time.perf_counter()
        decision = route_order(order_id=order.pk, actor=actor)
        elapsed = (time.perf_counter() - t0) * 1000
        assert decision is not None, order.number
        return elapsed

    def availability(self, i: int) -> float:
        skus = self.rng.sample(self.sample, 3)
        t0 = time.perf_counter()
        r = self.client.get(
            "/api/v1/availability/", {"sku": skus, "postal_code": "10001", "country": "US"}
        )
        elapsed = (time.perf_counter() - t0) * 1000
        assert r.status_code == 200, r.content[:300]
        return elapsed

    def trace(self, i: int) -> float:
        t0 = time.perf_counter()
        r = self.client.get(f"/api/v1/orders/{self.numbers[i % len(self.numbers)]}/events/")
        elapsed = (time.perf_counter() - t0) * 1000
        assert r.status_code == 200, r.content[:300]
        return elapsed

    def dashboard(self, i: int) -> float:
        from ops.kpis.dashboard import build_dashboard

        t0 = time.perf_counter()
        build_dashboard()
        return (time.perf_counter() - t0) * 1000

    def all(self) -> dict[str, Callable[[int], float]]:
        return {
            "capture": self.capture,
            "route_order 3 lines": self.route,
            "availability": self.availability,
            "order trace": self.trace,
            "KPI dashboard": self.dashboard,
        }


def two_connections(small_db: str, big_db: str) -> dict[str, Any]:
    """One open connection to each database, kept for the whole timing (no reconnect, each
    server backend warm): `switch()` makes one of them Django's default connection."""
    from django.db import connections
    from django.db.utils import load_backend

    use_database(small_db)
    small = connections["default"]
    small.settings_dict["CONN_MAX_AGE"] = None  # never closed between the requests
    settings = {**small.settings_dict, "NAME": big_db}
    big = load_backend(settings["ENGINE"]).DatabaseWrapper(settings, "default")
    return {"small": small, "big": big}


def switch(conn: Any) -> None:
    from django.db import connections

    connections["default"] = conn


def time_interleaved(
    measures: Measures, conns: dict[str, Any], runs: int, dashboard_runs: int
) -> dict[str, dict[str, list[float]]]:
    """Each measure run for run on both databases alternately (small then big, then big then
    small, ...), after 3 untimed runs on each (caches and plans): the machine's noise at any
    moment falls on both sizes alike."""
    times: dict[str, dict[str, list[float]]] = {"small": {}, "big": {}}
    counter = 0
    for name, func in measures.all().items():
        n = dashboard_runs if name == "KPI dashboard" else runs
        for label in ("small", "big"):
            switch(conns[label])
            for _ in range(3):
                counter += 1
                func(counter)
        for k in range(n):
            for label in ("small", "big") if k % 2 == 0 else ("big", "small"):
                switch(conns[label])
                counter += 1
                times[label].setdefault(name, []).append(func(counter))
        print(f"    {name}: {n} runs on each", flush=True)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--key-file", type=Path, required=True)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--events-per-order", type=int, default=10)
    parser.add_argument("--runs", type=int, default=100, help="timed runs per measure and size")
    parser.add_argument("--dashboard-runs", type=int, default=40, help="per size")
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20250301)
    parser.add_argument("--big-db", help="default: the bench database's name + _big")
    parser.add_argument("--keep-big", action="store_true", help="do not drop the big database")
    parser.add_argument(
        "--reuse-big", action="store_true", help="time a kept big database again, no growing"
    )
    parser.add_argument("--jsonl", type=Path)
    parser.add_argument("--meta", default="{}")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
    import django

    django.setup()
    import routing_bench
    from django.db import connection

    from oms.core.process_tuning import freeze_startup_heap

    freeze_startup_heap()
    rng = random.Random(args.seed)  # the routing bench's network and sample
    zips = routing_bench.contiguous_zips()
    sample = [
        routing_bench.sku(i) for i in sorted(rng.sample(range(1, args.skus + 1), args.sample))
    ]
    key = args.key_file.read_text().strip()
    small_db = str(connection.settings_dict["NAME"])
    big_db = args.big_db or f"{small_db}_big"

    print(f"  small: {small_db}: {dispatch_history():,} events marked dispatched; VACUUM ANALYZE")
    settle()
    print(f"  big: {big_db}, a copy of {small_db} grown to {args.big:,} orders...")
    if args.reuse_big:
        grow_s = 0.0
    else:
        copy_database(small_db, big_db)
        use_database(big_db)
        grow_s = grow(args.big, args.events_per_order)
    sizes: dict[str, dict[str, Any]] = {}
    for label, db in (("small", small_db), ("big", big_db)):
        use_database(db)
        dispatch_history()  # (a kept big database: the events its last timing recorded)
        sizes[label] = {
            "db": db,
            "orders": scalar("SELECT count(*) FROM orders_order"),
            "events": scalar("SELECT count(*) FROM events_event"),
            "size": scalar("SELECT pg_size_pretty(pg_database_size(current_database()))"),
        }
        print(
            f"  {label}: {sizes[label]['orders']:,} orders, {sizes[label]['events']:,} events, "
            f"{sizes[label]['size']}; KPI rollups of the dashboard's past days built in "
            f"{build_rollups():.1f} s"
        )
        autocommit_sql("VACUUM ANALYZE", "CHECKPOINT")
    print(f"  (big built in {grow_s:.0f} s)")

    use_database(small_db)
    seeded = scalar("SELECT count(*) FROM orders_order WHERE number LIKE 'HIST-%%'")
    measures = Measures(key, sample, zips, seeded)
    conns = two_connections(small_db, big_db)
    print(
        f"  timing: {args.runs} runs per measure ({args.dashboard_runs} for the dashboard) "
        "on each database, alternating run by run"
    )
    times = time_interleaved(measures, conns, args.runs, args.dashboard_runs)
    conns["big"].close()
    switch(conns["small"])
    if not args.keep_big:
        drop_database(big_db, small_db)
        use_database(small_db)

    small, big = sizes["small"], sizes["big"]
    print()
    print(
        f"history: {small['orders']:,} orders / {small['events']:,} events vs "
        f"{big['orders']:,} orders / {big['events']:,} events, interleaved "
        f"(p50 and p99 ms; big/small of the p50; PASS when <= {LIMIT})"
    )
    print(f"  {'':<22}{'small p50':>10}{'p99':>9}{'big p50':>10}{'p99':>9}{'ratio':>8}")
    rows = {}
    for name in times["small"]:
        s, b = summary(times["small"][name]), summary(times["big"][name])
        ratio = b["p50_ms"] / s["p50_ms"] if s["p50_ms"] else 0.0
        rows[name] = {"small": s, "big": b, "ratio": round(ratio, 3), "pass": ratio <= LIMIT}
        print(
            f"  {name:<22}{s['p50_ms']:>10.2f}{s['p99_ms']:>9.2f}{b['p50_ms']:>10.2f}"
            f"{b['p99_ms']:>9.2f}{ratio:>8.2f}  {'PASS' if ratio <= LIMIT else 'FAIL'}"
        )
    dashboard_ms = rows["KPI dashboard"]["big"]["p50_ms"]
    dashboard_ok = dashboard_ms <= DASHBOARD_LIMIT_MS
    print(
        f"  KPI dashboard at {big['orders']:,} orders <= {DASHBOARD_LIMIT_MS} ms (issue 17, at 1M):"
        f"  {'PASS' if dashboard_ok else 'FAIL'}  p50 {dashboard_ms:.1f} ms"
    )
    if args.jsonl:
        record = {
            "ts": datetime.now(UTC).isoformat(timespec="seconds"),
            **json.loads(args.meta),
            "small": {"orders": small["orders"], "events": small["events"]},
            "big": {"orders": big["orders"], "events": big["events"], "built_s": round(grow_s)},
            "interleaved": True,
            "rows": rows,
            "dashboard": {"p50_ms": dashboard_ms, "pass": dashboard_ok},
        }
        args.jsonl.parent.mkdir(parents=True, exist_ok=True)
        with args.jsonl.open("a") as out:
            out.write(json.dumps(record) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
