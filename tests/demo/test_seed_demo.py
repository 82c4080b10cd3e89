"""seed_demo, run twice on one database as `make run` may be run again: every test reads that
database (or the two outputs) and checks what one part of the demo left.

The module seeds once for all its tests (`seeded`, in an outer transaction rolled back at the
end, as tests/security/test_role_matrix.py builds its world): each seed takes seconds, and the
tests only read, each in its own savepoint. What the first seed alone left is kept where a test
needs it (its output, its counts); the rest is read as the second seed left it: the same data
set, which test_seed_demo_twice_loads_the_same_data_set checks."""

import re
from collections import Counter
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count
from django.test import Client, override_settings

from integrations.models import InboundMessage
from inventory.models import Node, NodeKind, Product, StockLevel
from inventory.selectors import find_ledger_mismatches
from orders.models import ApiClient, Channel, Order
from tests.conftest import bearer_client

KEY_PATTERN = re.compile(
    r"API key for demo storefront \(channel web\): (oms_[0-9a-f]{12}_[\w-]{43})"
)
PASSWORD_PATTERN = re.compile(
    r"Admin: http://127\.0\.0\.1:8000/admin/  user: admin  password: (\S+)"
)


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        "channels": Channel.objects.count(),
        "distribution_centers": Node.objects.filter(kind=NodeKind.DISTRIBUTION_CENTER).count(),
        "stores": Node.objects.filter(kind=NodeKind.STORE).count(),
        "products": Product.objects.count(),
        "stock_levels": StockLevel.objects.count(),
    }


@dataclass(frozen=True)
class Seeded:
    first: str  # the first seed's output
    first_counts: dict[str, int]  # counts() right after it
    second: str  # the second seed's output
    inbox: Path  # the EDI demo partner's inbox and outbox (scratch folders)
    outbox: Path
    exports: Path  # where the finance export was written


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    folder = tmp_path_factory.mktemp("seed_demo")
    folders = {
        "OMS_X12_INBOX_DIR": folder / "inbox",
        "OMS_X12_OUTBOX_DIR": folder / "outbox",
        "OMS_EXPORT_DIR": folder / "exports",
    }
    folders["OMS_EXPORT_DIR"].mkdir()
    with django_db_blocker.unblock(), override_settings(**folders):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            first = seed()
            first_counts = counts()
            yield Seeded(
                first=first,
                first_counts=first_counts,
                second=seed(),
                inbox=folders["OMS_X12_INBOX_DIR"],
                outbox=folders["OMS_X12_OUTBOX_DIR"],
                exports=folders["OMS_EXPORT_DIR"],
            )
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.mark.django_db
def test_seed_demo_twice_loads_the_same_data_set(seeded):
    first = seeded.first_counts

    assert counts() == first
    assert first == {
        "channels": 6,  # web, pos, marketplace, the Shopify and EDI demos, the outlet mid-cutover
        "distribution_centers": 2,
        "stores": 15,
        "products": 226,  # 225 + one limited edition nobody stocks (backorders)
        "stock_levels": 18 * 226,  # 2 DCs, 15 stores and the X12 3PL
    }
    assert set(Channel.objects.values_list("code", "default_currency")) == {
        ("web", "USD"),
        ("pos", "USD"),
        ("marketplace", "USD"),
        ("shopify-demo", "USD"),
        ("edi-demo", "USD"),
        ("outlet", "USD"),
    }
    assert (
        "Demo data: 3 channels, 17 nodes (2 distribution centers, 15 stores), 226 products, "
        "3842 stock levels." in seeded.second
    )


@pytest.mark.django_db
def test_seed_demo_gives_every_node_a_stock_level_for_every_product(seeded):
    per_node = dict(Node.objects.annotate(n=Count("stock_levels")).values_list("code", "n"))

    assert set(per_node.values()) == {Product.objects.count()}
    assert len(per_node) == 18  # 2 DCs, 15 stores, the X12 3PL
    limited = StockLevel.objects.filter(product__sku="LTD-JACKET-CRIMSON-M")
    dc_stock = StockLevel.objects.filter(node__kind=NodeKind.DISTRIBUTION_CENTER).exclude(
        product__sku="LTD-JACKET-CRIMSON-M"
    )
    store_stock = StockLevel.objects.filter(node__kind=NodeKind.STORE)
    assert set(limited.values_list("on_hand", flat=True)) == {0}
    assert not dc_stock.exclude(on_hand__range=(50, 500)).exists()
    assert not store_stock.exclude(on_hand__range=(0, 25)).exists()
    assert not store_stock.exclude(safety_stock__in=(1, 2)).exists()
    assert not StockLevel.objects.filter(last_reported_at__isnull=True).exists()


@pytest.mark.django_db
def test_seed_demo_nodes_have_the_documented_capabilities(seeded):
    dcs = Node.objects.filter(kind=NodeKind.DISTRIBUTION_CENTER)
    stores = Node.objects.filter(kind=NodeKind.STORE)

    assert {tuple(n.capabilities) for n in dcs} == {("ship",)}
    assert {(n.priority, n.daily_capacity) for n in dcs} == {(10, 5000)}
    assert {n.priority for n in stores} == {50}
    assert all(50 <= n.daily_capacity <= 150 for n in stores)
    assert stores.filter(can_curbside=False).count() == 2
    assert stores.filter(can_ship_from_store=False).count() == 1
    assert stores.filter(can_pickup=True, can_accept_returns=True).count() == 15
    assert {n.fulfillment_region for n in Node.objects.all()} == {"east", "central", "west"}


@pytest.mark.django_db
def test_seed_demo_prints_a_web_api_key_that_authenticates_and_revokes_the_previous_one(seeded):
    first_key = KEY_PATTERN.search(seeded.first).group(1)
    second_key = KEY_PATTERN.search(seeded.second).group(1)

    assert f'curl -H "Authorization: Bearer {second_key}" http://127.0.0.1:8000/api/v1/orders/' in (
        seeded.second
    )
    assert bearer_client(second_key).get("/api/v1/orders/").status_code == 200
    response = bearer_client(first_key).get("/api/v1/orders/")
    assert response.status_code == 401
    assert response.json()["code"] == "api_key_revoked"
    demo_clients = ApiClient.objects.filter(name="demo storefront", channel__code="web")
    assert demo_clients.count() == 2
    assert demo_clients.filter(revoked_at__isnull=True).count() == 1


@pytest.mark.django_db
def test_seed_demo_prints_an_admin_password_that_logs_in(seeded):
    first_password = PASSWORD_PATTERN.search(seeded.first).group(1)
    password = PASSWORD_PATTERN.search(seeded.second).group(1)

    assert password != first_password
    assert Client().login(username="admin", password=password) is True
    assert Client().login(username="admin", password=first_password) is False
    admin = get_user_model().objects.get(username="admin")
    assert (admin.is_staff, admin.is_superuser, admin.is_active) == (True, True, True)


@pytest.mark.django_db
def test_seed_demo_places_the_demo_orders_once(seeded):
    assert "Placed 36 demo orders" in seeded.first
    assert "Placed" not in seeded.second
    demo = Order.objects.filter(external_id__startswith="DEMO-")
    assert demo.count() == 36
    assert Counter(demo.values_list("delivery_method", flat=True)) == {
        "ship": 27,
        "pickup": 6,
        "curbside": 3,
    }
    assert demo.filter(lines__product__sku="LTD-JACKET-CRIMSON-M").distinct().count() == 4
    assert demo.filter(holds__kind="fraud").distinct().count() == 2
    assert demo.filter(service_level="express").count() == 1


@pytest.mark.django_db
def test_seed_demo_connects_a_shopify_channel_with_its_documented_order_once(seeded):
    from channels.models import ChannelConnection

    connection = ChannelConnection.objects.get(channel__code="shopify-demo")
    assert connection.platform == "shopify"
    assert connection.webhook_secret  # set, encrypted at rest
    [order] = Order.objects.filter(channel__code="shopify-demo")
    assert order.external_id == "450789469"
    assert order.lines.count() == 3
    assert set(order.lines.values_list("sku", flat=True)) == set(
        connection.settings["sku_map"].values()
    )
    assert f"captured {order.number}" in seeded.first
    assert f"duplicate {order.number}" in seeded.second


@pytest.mark.django_db
def test_seed_demo_shows_a_cancelled_order_and_a_partial_cancel(seeded):
    reverse = Order.objects.filter(external_id__startswith="REV-DEMO-").order_by("external_id")
    cancelled, partial = reverse
    line = partial.lines.get()
    assert reverse.count() == 2
    assert (cancelled.status, cancelled.cancel_reason) == (
        "cancelled",
        "customer called: ordered the wrong size",
    )
    assert (line.quantity, line.cancelled_quantity) == (3, 1)


@pytest.mark.django_db
def test_seed_demo_gives_each_role_a_user_and_finance_an_export(seeded):
    password = PASSWORD_PATTERN.search(seeded.second).group(1)

    assert "One user per role, same password: cs, finance, ops" in seeded.first
    assert "One user per role, same password: cs, finance, ops" in seeded.second
    for username, group in (
        ("cs", "customer_service"),
        ("finance", "finance"),
        ("ops", "ops_admin"),
    ):
        user = get_user_model().objects.get(username=username)
        assert [g.name for g in user.groups.all()] == [group]
        assert not user.is_superuser
        assert Client().login(username=username, password=password) is True
    from ops.models import FinanceExport

    [export] = FinanceExport.objects.all()  # the first seed's: once a day
    assert (export.kind, export.file_format, export.status) == ("payments", "xlsx", "done")
    assert (seeded.exports / export.file_name).is_file()
    assert "ready to download" in seeded.first
    assert "ready to download" not in seeded.second


@pytest.mark.django_db
def test_seed_demo_has_a_3pl_on_x12_that_reported_its_stock_with_an_846(seeded):
    # the same day's report twice (two seeds): one effect. Six SKUs counted (27, 34, ... 62),
    # the others none, all through the ledger
    node = Node.objects.get(code="3pl-memphis")
    assert (node.connector, node.kind) == ("x12_file", NodeKind.THIRD_PARTY)
    levels = StockLevel.objects.filter(node=node, on_hand__gt=0)
    counted = sorted(levels.values_list("on_hand", flat=True))
    assert counted == [27, 34, 41, 48, 55, 62]
    assert (
        InboundMessage.objects.filter(
            source="x12:3pl-memphis", kind="inventory.snapshot", status="processed"
        ).count()
        == 1
    )
    assert find_ledger_mismatches() == []


@pytest.mark.django_db
def test_seed_demo_takes_the_edi_partners_purchase_order_from_its_inbox_once(seeded):
    assert "EDI channel edi-demo" in seeded.first
    assert "EDI channel edi-demo" not in seeded.second  # nothing dropped again
    assert Order.objects.filter(channel__code="edi-demo", external_id="08292233294").count() == 1
    outbox = seeded.outbox / "channels" / "edi-demo"
    names = sorted(p.name for p in outbox.iterdir())
    assert "997-ABCDEFGHIJKLMNO-000003438.edi" in names
    assert "TA1-ABCDEFGHIJKLMNO-000003438.edi" in names
    processed = seeded.inbox / "channels" / "edi-demo" / "processed"
    assert sorted(p.name for p in processed.iterdir()) == [
        "PO-08292233294-resent.edi",
        "PO-08292233294.edi",
    ]
