"""History import benchmark: orders/s and peak memory of `import_legacy` on generated exports.

Generates Shopify-order-CSV history exports (migration/generator.py: fulfilled orders, 1-3
lines each) of each size given, imports each into the database of DATABASE_URL through the
shipped `shopify_orders_csv` mapping (a real run: orders, lines, fulfillment orders, consumed
reservations, events), and prints per size the orders/s, and the peak RSS of the process. The
sizes run in ascending order in one process, so the peak RSS after the largest is the bound;
a flat peak across sizes shows memory does not grow with the file. From the two largest sizes
it prints the seconds per 1,000 orders (the slope) and the time that slope gives for
1,000,000 orders.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms_bench .venv/bin/python \
        bench/migration_bench.py --orders 2000 10000

Re-running on the same database imports nothing new (idempotent): each run uses fresh order
names (a run id in the seed prefix).
"""

import argparse
import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from inventory.models import Node, Product  # noqa: E402
from migration.generator import skus, write_export  # noqa: E402
from migration.mapping.schema import load_mapping  # noqa: E402
from migration.services.runs import run_import  # noqa: E402
from oms.core.actors import Actor  # noqa: E402
from orders.models import Channel  # noqa: E402

SKU_COUNT = 100


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def setup() -> None:
    Channel.objects.get_or_create(code="shopify", defaults={"name": "Shopify"})
    Node.objects.get_or_create(
        code="shopify-shop",
        defaults={"name": "Bench shop", "kind": "store", "latitude": 40, "longitude": -80,
                  "can_pickup": True},
    )  # fmt: skip
    existing = set(Product.objects.values_list("sku", flat=True))
    Product.objects.bulk_create(
        [
            Product(sku=sku, name=f"Generated {sku}")
            for sku in skus(SKU_COUNT)
            if sku not in existing
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, nargs="+", default=[2000, 10000])
    args = parser.parse_args()
    setup()
    mapping = load_mapping(ROOT / "migration" / "mappings" / "shopify_orders_csv.yaml")
    actor = Actor.system("bench")
    timings: list[tuple[int, float]] = []
    print(
        f"history import bench ({connection.vendor}), mapping shopify_orders_csv, "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    for count in sorted(args.orders):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "orders.csv"
            write_export(path, "shopify_csv", count, sku_count=SKU_COUNT,
                         seed=uuid.uuid4().int % 10**9)  # fmt: skip
            run_id = uuid.uuid4().hex[:6]
            fresh = Path(tmp) / "fresh.csv"
            with path.open(encoding="utf-8") as src, fresh.open("w", encoding="utf-8") as dst:
                for text in src:  # line by line: the bench's own RSS stays flat too
                    dst.write(text.replace("#G", f"#G{run_id}-"))
            path.unlink()
            path = fresh
            started = time.perf_counter()
            report = run_import(mapping=mapping, input_path=path, dry_run=False, actor=actor)
            elapsed = time.perf_counter() - started
        if report.created != count:
            print(f"  {count}: created {report.created}, errors {dict(report.error_counts)}")
            return 1
        timings.append((count, elapsed))
        print(
            f"  {count:>8} orders: {elapsed:7.1f} s, {count / elapsed:7.0f} orders/s, "
            f"peak RSS {peak_rss_mb():.0f} MB (load {os.getloadavg()[0]:.1f})"
        )
    if len(timings) >= 2:
        (n1, t1), (n2, t2) = timings[-2], timings[-1]
        slope = (t2 - t1) / (n2 - n1) * 1000
        print(f"  slope {slope:.2f} s per 1,000 orders -> 1,000,000 orders in about "
              f"{slope * 1000 / 60:.0f} min at {1000 / slope:.0f} orders/s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
