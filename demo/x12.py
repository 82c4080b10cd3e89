"""The demo's 3PL on X12 files: `3pl-memphis`, a third-party warehouse that gets its work as 940
files (written to the X12 outbox) and reports its stock with an 846, which the demo drops in the
X12 inbox and imports as the warehouse would (docs/x12.md). After `make run`: Inventory ›
Stock levels for node 3pl-memphis, and Integrations › Inbound messages (`inventory.snapshot`
from `x12:3pl-memphis`)."""

from datetime import datetime
from decimal import Decimal

from django.conf import settings

from demo.stock import create_missing_stock
from fulfillment.x12.inbox import import_945_file
from fulfillment.x12.results import ImportResult
from inventory.models import Node, NodeKind, Product

CODE = "3pl-memphis"
PARTNER_ID = "3PLMEMPHIS"


def upsert_demo_3pl() -> Node:
    node, _ = Node.objects.update_or_create(
        code=CODE,
        defaults={
            "name": "3PL Memphis (X12)",
            "kind": NodeKind.THIRD_PARTY,
            "address_line1": "4000 Lamar Ave",
            "city": "Memphis",
            "region": "TN",
            "postal_code": "38118",
            "country": "US",
            "latitude": Decimal("35.0479"),
            "longitude": Decimal("-89.9306"),
            "timezone": "America/Chicago",
            "fulfillment_region": "central",
            "can_ship": True,
            "daily_capacity": 2000,
            "priority": 90,  # the network's last choice: most demo orders stay where they were
            "is_active": True,
            "connector": "x12_file",
            "connector_settings": {
                "sender_id": "OMS",
                "receiver_id": PARTNER_ID,
                "version": "004010",
            },
        },
    )
    return node


def stock_report(products: list[Product], now: datetime) -> str:
    """Today's 846 from the 3PL: one LIN per product, by SKU, or by barcode when it has one."""
    day, clock = now.strftime("%Y%m%d"), now.strftime("%H%M")
    control = int(now.strftime("%y%m%d"))  # one report a day: a re-seed the same day is a resend
    body = [
        "ST*846*0001",
        f"BIA*00*DD*STOCK-{day}*{day}*0000",
        f"N1*WH*3PL Memphis*ZZ*{PARTNER_ID}",
    ]
    for number, product in enumerate(products, start=1):
        item = f"UP*{product.upc}" if product.upc and number % 2 == 0 else f"SK*{product.sku}"
        body += [f"LIN*{number}*{item}", f"QTY*17*{20 + 7 * number}", "UIT*EA"]
    body += [f"CTT*{len(products)}", f"SE*{len(body) + 2}*0001"]
    isa_date, isa_time = now.strftime("%y%m%d"), clock
    envelope = (
        f"ISA*00*{'':10}*00*{'':10}*ZZ*{PARTNER_ID:<15}*ZZ*{'OMS':<15}*{isa_date}*{isa_time}"
        f"*U*00401*{control:09d}*0*P*>~"
    )
    segments = [
        envelope,
        f"GS*IB*{PARTNER_ID}*OMS*{day}*{clock}*{control}*X*004010~",
        *(f"{segment}~" for segment in body),
        f"GE*1*{control}~",
        f"IEA*1*{control:09d}~",
    ]
    return "\n".join(segments) + "\n"


def connect_demo_3pl(skus: list[str], now: datetime) -> ImportResult:
    """The 3PL node with a stock level for every product (through the ledger, like every demo
    node), then its stock report of `skus` imported through the X12 inbox: those are counted,
    the others it holds none of."""
    node = upsert_demo_3pl()
    create_missing_stock([node], list(Product.objects.values_list("pk", flat=True)), now)
    products = list(Product.objects.filter(sku__in=skus).order_by("sku"))
    inbox = settings.OMS_X12_INBOX_DIR
    inbox.mkdir(parents=True, exist_ok=True)
    path = inbox / f"846-{CODE}-{now:%Y%m%d}.edi"
    path.write_text(stock_report(products, now))
    return import_945_file(path)
