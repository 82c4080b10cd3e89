"""Sample legacy import jobs for the demo: dry runs of the documented CSV examples
(migration/examples/), so Migration › Import jobs shows a clean report (the locations, from which
a real run can start) and one with refusals (orders whose SKUs and nodes the demo does not have).
Created once: a job already made by the demo is left as it is.

Also a reconciliation source: one store's own count (written at seeding from oms's stock with a
planted drift: 3 units fewer of one SKU, 1 more of another) read through `generic_stock_csv`,
reconciled once at seeding and then hourly, so Inventory › Inventory reconciliations shows the
variance report and chart, the console an `inventory_variance` case, and the dashboard the
inventory accuracy KPI.

And a legacy status feed (dual running): the web shop's orders as a legacy system would report
them (written at seeding from oms's statuses, with one planted difference: an open order the
legacy system says it shipped) read through `generic_order_status_csv`, compared once at seeding
and then hourly, so Migration › Status reconciliations lists the differing order and the console
an `order_status_mismatch` case."""

from pathlib import Path

from django.conf import settings

from inventory.models import InventoryReconciliation, NodeKind, StockLevel
from migration.models import ImportJob, ReconciliationSource, StatusReconciliation
from migration.services.jobs import MAPPINGS_DIR, create_job, execute_job
from migration.services.reconciliation import reconcile_inventory, reconcile_source
from oms.core.actors import Actor
from orders.models import Order, OrderStatus

EXAMPLES = Path("migration") / "examples"
SAMPLES = (("generic_nodes_csv", "nodes.csv"), ("generic_orders_csv", "orders.csv"))
DEMO_ACTOR = Actor.system("seed_demo")


def create_sample_import_jobs() -> int:
    """Dry runs only: nothing but the jobs and their reports is written. Returns how many."""
    made = 0
    for mapping, example in SAMPLES:
        if ImportJob.objects.filter(created_by=DEMO_ACTOR.label, mapping_name=mapping).exists():
            continue
        job = create_job(
            mapping_path=MAPPINGS_DIR / f"{mapping}.yaml",
            input_path=EXAMPLES / example,
            dry_run=True,
            actor=DEMO_ACTOR,
        )
        execute_job(job_id=job.pk, actor=DEMO_ACTOR)
        made += 1
    return made


COUNTS_SOURCE = "demo-store-counts"
COUNTS_FILE = Path("var") / "demo" / "store_counts.csv"


def create_sample_reconciliation() -> int:
    """The demo's reconciliation source and its first run (once); returns runs made."""
    if InventoryReconciliation.objects.filter(source=COUNTS_SOURCE).exists():
        return 0
    levels = list(
        StockLevel.objects.filter(node__kind=NodeKind.STORE, node__is_active=True)
        .select_related("node", "product")
        .order_by("node__code", "product__sku")
    )
    if not levels:
        return 0
    store = levels[0].node
    counts = {lv.product.sku: lv.on_hand for lv in levels if lv.node_id == store.pk}
    short = next((sku for sku, n in counts.items() if n >= 3), None)
    if short is not None:
        counts[short] -= 3  # the store holds 3 fewer than oms thinks: over the case threshold
    extra = next((sku for sku in counts if sku != short), None)
    if extra is not None:
        counts[extra] += 1  # one more found on the shelf: within thresholds, off the accuracy
    path = Path(settings.BASE_DIR) / COUNTS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "location,sku,qty,safety\n"
        + "".join(f"{store.code},{sku},{n},0\n" for sku, n in sorted(counts.items())),
        encoding="utf-8",
    )
    ReconciliationSource.objects.update_or_create(
        name=COUNTS_SOURCE,
        defaults={"mapping_name": "generic_stock_csv", "input_path": str(COUNTS_FILE)},
    )
    reconcile_inventory(
        mapping_name="generic_stock_csv", input_path=path, actor=DEMO_ACTOR, source=COUNTS_SOURCE
    )
    return 1


STATUS_SOURCE = "demo-legacy-statuses"
STATUS_FILE = Path("var") / "demo" / "legacy_statuses.csv"
# oms status -> the status code a legacy system reports (generic_order_status_csv maps it back)
LEGACY_CODES = {
    OrderStatus.CREATED: "CREATED",
    OrderStatus.BACKORDERED: "BACKORDERED",
    OrderStatus.ALLOCATED: "RELEASED",
    OrderStatus.RELEASED: "RELEASED",
    OrderStatus.PARTIALLY_SHIPPED: "PARTIALLY_SHIPPED",
    OrderStatus.SHIPPED: "SHIPPED",
    OrderStatus.DELIVERED: "DELIVERED",
    OrderStatus.COMPLETED: "DELIVERED",
    OrderStatus.CANCELLED: "CANCELLED",
    OrderStatus.HANDED_BACK: "HANDED_BACK",
}
OPEN = (OrderStatus.CREATED, OrderStatus.BACKORDERED, OrderStatus.ALLOCATED, OrderStatus.RELEASED)


def create_sample_status_reconciliation() -> int:
    """The demo's status feed source and its first comparison (once); returns runs made."""
    if StatusReconciliation.objects.filter(source=STATUS_SOURCE).exists():
        return 0
    orders = list(
        Order.objects.filter(channel__code="web")
        .order_by("id")
        .values_list("external_id", "status")
    )
    if not orders:
        return 0
    planted = next((external_id for external_id, status in orders if status in OPEN), None)
    rows = "".join(
        f"{external_id},{'SHIPPED' if external_id == planted else LEGACY_CODES[status]},\n"
        for external_id, status in orders
    )
    path = Path(settings.BASE_DIR) / STATUS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("order_id,status,updated_at\n" + rows, encoding="utf-8")
    ReconciliationSource.objects.update_or_create(
        name=STATUS_SOURCE,
        defaults={"mapping_name": "generic_order_status_csv", "input_path": str(STATUS_FILE)},
    )
    reconcile_source(
        mapping_name="generic_order_status_csv",
        input_path=path,
        actor=DEMO_ACTOR,
        source=STATUS_SOURCE,
    )
    return 1
