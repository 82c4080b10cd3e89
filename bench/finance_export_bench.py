"""Finance export benchmark: N payment rows (orders and one succeeded capture transaction each,
generated with SQL INSERT ... SELECT generate_series in a database of its own), then the
"payments" dataset exported as CSV and as XLSX, each in a fresh process, printing rows, seconds
and the process's peak RSS. Exports stream, so the peak must stay flat (under 200 MB at 1M).

    .venv/bin/python bench/finance_export_bench.py               # FIN_ROWS or 1,000,000 rows
    FIN_ROWS=100000 .venv/bin/python bench/finance_export_bench.py
    .venv/bin/python bench/finance_export_bench.py --reuse       # keep the generated rows

The database (FIN_DB, default oms_finbench) is dropped and re-created each run unless --reuse
finds it already generated. Exit status 1 when a peak RSS is over --max-rss-mb (200).
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MONTH = ("2026-11-01", "2026-11-30")


def sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, cwd=ROOT, env=os.environ.copy())  # noqa: S603


def rows_in(db: str) -> int:
    out = subprocess.run(  # noqa: S603
        [  # noqa: S607
            "psql",
            "-AtX",
            "-d",
            db,
            "-c",
            "SELECT count(*) FROM orders_paymenttransaction",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return int(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip() else 0


def generate(n: int) -> None:
    import django

    django.setup()
    from django.db import connection

    from orders.models import Channel

    channels = [Channel.objects.create(code=c, name=c.title()) for c in ("web", "pos", "market")]
    ch = "ARRAY[" + ",".join(str(c.pk) for c in channels) + "]"
    statements = [
        f"""
        INSERT INTO orders_order (id, created_at, updated_at, public_id, number, external_id,
            status, payment_status, payment_reference, payment_method, placed_at, currency,
            subtotal, shipping_total, discount_total, tax_total, grand_total, customer_name,
            customer_email, customer_phone, delivery_method, service_level, ship_name,
            ship_line1, ship_line2, ship_city, ship_region, ship_postal_code, ship_country,
            billing_address, notes, cancel_reason, channel_id, internal_notes)
        SELECT g, p, p, gen_random_uuid(), 'FB-' || g, 'X-' || g, 'shipped', 'paid', 'auth',
            'card', p, 'USD', 30 + g % 97, 5, 0, 2, 37 + g % 97 + (g % 100) / 100.0,
            '=cmd|calc', 'c' || g || '@example.com', '', 'ship', 'standard', 'Bench', '1 Main',
            '', 'Columbus', 'OH', '43215', 'US', '{{}}', '', '', ({ch})[1 + g % 3], ''
        FROM (SELECT g, timestamptz '2026-11-01 00:00+00'
                        + ((g::bigint * 7919) % 43200) * interval '1 minute' AS p
              FROM generate_series(1, {n}) g) s""",
        """
        INSERT INTO orders_paymenttransaction (created_at, updated_at, order_id, kind, amount,
            currency, provider, provider_reference, idempotency_key, attempt,
            provider_idempotency_key, status, error_code, error_message, shipment_reference,
            reason, actor)
        SELECT o.placed_at + interval '2 hours', o.placed_at + interval '2 hours', o.id,
            'capture', o.grand_total, 'USD', 'simulated', 'cap_' || o.id, 'capture:' || o.id, 1,
            'capture:' || o.id || ':1', 'succeeded', '', '', 'FO-' || o.id, '', 'system:bench'
        FROM orders_order o""",
        "ANALYZE",
    ]
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


EXPORT = """
import resource, sys, time
from datetime import date
from pathlib import Path
import django
django.setup()
from ops.finance.datasets import Query
from ops.finance.exports import export_to_path
query = Query(date.fromisoformat(sys.argv[2]), date.fromisoformat(sys.argv[3]))
started = time.perf_counter()
rows = export_to_path(kind="payments", file_format=sys.argv[1], query=query, path=Path(sys.argv[4]))
seconds = time.perf_counter() - started
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
size_mb = Path(sys.argv[4]).stat().st_size / 1024 / 1024
print(f"{sys.argv[1]} {rows} {seconds:.1f} {peak_mb:.1f} {size_mb:.1f}")
"""


def export(file_format: str, out: Path) -> tuple[int, float, float, float]:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", EXPORT, file_format, *MONTH, str(out)],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        check=True,
    )
    _fmt, rows, seconds, peak, size = result.stdout.strip().splitlines()[-1].split()
    return int(rows), float(seconds), float(peak), float(size)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=int(os.environ.get("FIN_ROWS", 1_000_000)))
    parser.add_argument("--db", default=os.environ.get("FIN_DB", "oms_finbench"))
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--max-rss-mb", type=float, default=200.0)
    parser.add_argument("--formats", default="csv,xlsx")
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
        LOG_LEVEL="WARNING",
    )
    sys.path.insert(0, str(ROOT))
    existing = rows_in(args.db) if args.reuse else 0
    if existing:
        print(f"== finance export bench: reusing the {existing:,} payment rows in {args.db}")
        sh(sys.executable, "manage.py", "migrate", "--no-input", "-v", "0")
    else:
        print(f"== finance export bench: generating {args.rows:,} payment rows in {args.db}")
        sh("dropdb", "--if-exists", "--force", args.db)
        sh("createdb", args.db)
        sh(sys.executable, "manage.py", "migrate", "--no-input", "-v", "0")
        generate(args.rows)

    over = False
    with tempfile.TemporaryDirectory() as tmp:
        for file_format in args.formats.split(","):
            rows, seconds, peak, size = export(file_format, Path(tmp) / f"p.{file_format}")
            flag = "OK" if peak < args.max_rss_mb else f"OVER {args.max_rss_mb:.0f} MB"
            over = over or peak >= args.max_rss_mb
            print(
                f"   payments {file_format:>4}: {rows:>9,} rows  {seconds:7.1f} s  "
                f"{rows / max(seconds, 0.001):>8,.0f} rows/s  peak RSS {peak:6.1f} MB  "
                f"file {size:6.1f} MB  {flag}"
            )
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
