"""The inventory records in the admin: ledger, reservations, oversells."""

from datetime import UTC, datetime

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import transaction
from django.test import Client
from django.urls import reverse

from inventory.models import InventoryMovement, Oversell, OversellStatus
from inventory.reservations import ReservationRequest, reserve
from inventory.services.feeds import apply_snapshot
from oms.core.actors import Actor
from oms.events.models import Event
from tests.factories.inventory import NodeFactory, OrderLineFactory, ProductFactory, stocked
from tests.factories.users import superuser

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(superuser())
    return client


@pytest.fixture
def level():
    return stocked(NodeFactory(code="dc-east"), ProductFactory(sku="TEE-1"), on_hand=60)


def reserve_each(level, times: int, reference_id: str = "OMS-ADMN-0001") -> None:
    line = OrderLineFactory(product=level.product)
    with transaction.atomic():
        reserve(
            requests=[ReservationRequest(level.node_id, level.product_id, 1, line.pk)] * times,
            actor=ACTOR,
            reference_id=reference_id,
        )


def oversold(level) -> Oversell:
    reserve_each(level, 5)
    apply_snapshot(
        node_code="dc-east",
        as_of=datetime(2026, 11, 20, tzinfo=UTC),
        counts={"TEE-1": 2},
        source="wms",
        message_id="count-1",
        actor=ACTOR,
    )
    return Oversell.objects.get()


def test_stock_level_page_shows_its_last_50_ledger_rows(admin_client, level):
    # given: 1 opening adjustment + 55 reservations
    reserve_each(level, 55)

    # when
    page = admin_client.get(reverse("admin:inventory_stocklevel_change", args=[level.pk]))

    # then
    assert page.status_code == 200
    html = page.content.decode()
    assert "Ledger (last 50 movements)" in html
    assert html.count("<tr><td>") == 50
    assert html.count("Reservation</td>") == 50
    assert "Adjustment</td>" not in html  # the opening count is the 56th row back


def test_ledger_list_filters_by_reason_and_searches_by_reference(admin_client, level):
    # given
    reserve_each(level, 2, reference_id="OMS-FIND-0001")
    url = reverse("admin:inventory_inventorymovement_changelist")

    # when
    by_reason = admin_client.get(url, {"reason__exact": "reservation"})
    by_reference = admin_client.get(url, {"q": "OMS-FIND-0001"})
    by_sku = admin_client.get(url, {"q": "TEE-1"})

    # then
    assert by_reason.status_code == by_reference.status_code == by_sku.status_code == 200
    assert list(by_reason.context["cl"].result_list) == list(
        InventoryMovement.objects.filter(reason="reservation").order_by("-id")
    )
    assert by_reference.context["cl"].result_count == 2
    assert by_sku.context["cl"].result_count == 3


@pytest.mark.parametrize(
    ("model", "rows"),
    [("inventorymovement", 7), ("reservation", 5), ("oversell", 1)],
)
def test_inventory_records_are_read_only_in_the_admin(admin_client, level, model, rows):
    # given: opening count, 5 reservations, a count of 2 (one snapshot movement, one oversell)
    oversold(level)

    # when
    listing = admin_client.get(reverse(f"admin:inventory_{model}_changelist"))
    add = admin_client.get(reverse(f"admin:inventory_{model}_add"))

    # then
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == rows
    assert add.status_code == 403
    assert listing.context["has_add_permission"] is False


def test_resolving_an_oversell_from_the_admin_calls_the_service(admin_client, level):
    # given
    oversell = oversold(level)

    # when
    response = admin_client.post(
        reverse("admin:inventory_oversell_changelist"),
        {"action": "resolve_selected", ACTION_CHECKBOX_NAME: [oversell.pk]},
        follow=True,
    )

    # then
    assert response.status_code == 200
    oversell.refresh_from_db()
    assert (oversell.status, oversell.resolved_by) == (OversellStatus.RESOLVED, "admin")
    assert Event.objects.filter(type="inventory.oversell_resolved").count() == 1
    assert "1 oversell resolved." in response.content.decode()


def test_resolving_an_already_resolved_oversell_from_the_admin_says_why(admin_client, level):
    # given
    oversell = oversold(level)
    admin_client.post(
        reverse("admin:inventory_oversell_changelist"),
        {"action": "resolve_selected", ACTION_CHECKBOX_NAME: [oversell.pk]},
    )

    # when
    response = admin_client.post(
        reverse("admin:inventory_oversell_changelist"),
        {"action": "resolve_selected", ACTION_CHECKBOX_NAME: [oversell.pk]},
        follow=True,
    )

    # then
    assert "is already resolved." in response.content.decode()
    assert Event.objects.filter(type="inventory.oversell_resolved").count() == 1
