"""The legacy system cancels a mirrored order (whole or some units): applied through the order
cancel services with their events, no node asked, and the order leaves the shadow comparison."""

import pytest

from fulfillment.models import FulfillmentOrder, NodeRequest
from inventory.models import Reservation
from migration.exceptions import CutoverRefused
from migration.models import LegacyDecision
from migration.selectors import order_diffs
from migration.services.legacy_cancellation import LegacyLineCancel, apply_legacy_cancellation
from migration.services.shadow import LegacyAllocation, mirror_legacy_order
from oms.core.actors import Actor
from oms.core.errors import InvalidInput
from oms.events.models import Event
from orders.models import Order
from tests.conftest import bearer_client
from tests.factories.orders import captured_order, issue_api_key, order_input
from tests.factories.users import superuser
from tests.migration.cutover_support import network, set_mode

pytestmark = pytest.mark.django_db
FEED = Actor.system("legacy feed")


@pytest.fixture
def shadow_orders(web_channel, django_capture_on_commit_callbacks):
    """Three shadow orders mirrored with their legacy decision and planned by oms."""
    network()
    set_mode("web", "shadow", author=superuser("alice"), approver=superuser("bob"))
    web_channel.refresh_from_db()
    orders = []
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            data = order_input(external_id=f"L-{n}", skus=["TEE", "MUG"], quantity=2)
            orders.append(
                mirror_legacy_order(
                    channel=web_channel,
                    data=data.__class__(**{**data.__dict__, "legacy_mirror": True}),
                    allocations=[
                        LegacyAllocation("dc-east", "TEE", 2),
                        LegacyAllocation("dc-east", "MUG", 2),
                    ],
                    actor=FEED,
                )
            )
    return orders


def _types(order):
    return list(
        Event.objects.filter(stream=order.stream).order_by("id").values_list("type", flat=True)
    )


def test_a_whole_cancel_cancels_the_mirror_with_events_and_no_node(shadow_orders):
    order = shadow_orders[0]
    assert len(order_diffs(channel_code="web")) == 3

    outcome = apply_legacy_cancellation(order_id=order.pk, actor=FEED, source="api")

    order.refresh_from_db()
    assert order.status == "cancelled"
    assert sorted(order.lines.values_list("sku", "status", "cancelled_quantity")) == [
        ("MUG", "cancelled", 2),
        ("TEE", "cancelled", 2),
    ]
    assert sorted(c["quantity"] for c in outcome.cancelled) == [2, 2]
    assert outcome.requested == []
    types = _types(order)
    assert types.count("order.line_cancelled") == 2
    assert "order.cancelled" in types
    assert types[-1] == "order.legacy_cancelled"
    last = Event.objects.filter(stream=order.stream).order_by("-id").first()
    assert last.payload["scope"] == "order"
    assert last.payload["source"] == "api"
    assert not NodeRequest.objects.exists()
    assert not FulfillmentOrder.objects.exists()
    assert not Reservation.objects.exists()
    assert LegacyDecision.objects.get(order=order).is_cancelled
    assert [d.order for d in order_diffs(channel_code="web")] == [
        o.number for o in shadow_orders[1:]
    ]
    # a resend changes nothing
    events = Event.objects.count()
    assert apply_legacy_cancellation(order_id=order.pk, actor=FEED, source="api") is None
    assert Event.objects.count() == events


def test_a_line_cancel_keeps_the_order_open_but_out_of_the_comparison(shadow_orders):
    order = shadow_orders[1]

    apply_legacy_cancellation(
        order_id=order.pk, actor=FEED, source="api", lines=[LegacyLineCancel("TEE", 1)]
    )

    order.refresh_from_db()
    assert order.status != "cancelled"
    assert sorted(order.lines.values_list("sku", "cancelled_quantity")) == [("MUG", 0), ("TEE", 1)]
    assert order.status == "created", order.status
    assert _types(order)[-2:] == ["order.line_cancelled", "order.legacy_cancelled"]
    assert not LegacyDecision.objects.get(order=order).is_cancelled
    assert order.number not in {d.order for d in order_diffs(channel_code="web")}
    assert len(order_diffs(channel_code="web")) == 2
    assert not NodeRequest.objects.exists()


def test_refusals(shadow_orders, web_channel):
    order = shadow_orders[2]
    with pytest.raises(InvalidInput) as exc:
        apply_legacy_cancellation(
            order_id=order.pk,
            actor=FEED,
            source="api",
            lines=[LegacyLineCancel("TEE", 3), LegacyLineCancel("SOCK", 1)],
        )
    assert sorted(e.code for e in exc.value.errors) == ["not_cancellable", "unknown_sku"]
    set_mode("web", "oms", author=superuser("carol"), approver=superuser("dan"))
    web_channel.refresh_from_db()
    own = captured_order(web_channel, external_id="OMS-1", skus=["TEE"])
    with pytest.raises(CutoverRefused) as refused:
        apply_legacy_cancellation(order_id=own.pk, actor=FEED, source="api")
    assert refused.value.code == "order_not_mirrored"


def test_the_legacy_feed_endpoint(shadow_orders, web_channel):
    api = bearer_client(issue_api_key(web_channel, "legacy feed").key)

    partial = api.post(
        "/api/v1/cutover/web/legacy-orders/L-0/cancel/",
        {"lines": [{"sku": "MUG", "quantity": 2}]},
        format="json",
    )
    assert partial.status_code == 200, partial.json()
    whole = api.post("/api/v1/cutover/web/legacy-orders/L-0/cancel/", {}, format="json")
    assert whole.status_code == 200
    assert whole.json()["status"] == "cancelled"
    again = api.post("/api/v1/cutover/web/legacy-orders/L-0/cancel/", {}, format="json")
    assert again.status_code == 200
    missing = api.post("/api/v1/cutover/web/legacy-orders/NOPE/cancel/", {}, format="json")
    assert (missing.status_code, missing.json()["code"]) == (404, "order_not_found")
    bad = api.post(
        "/api/v1/cutover/web/legacy-orders/L-1/cancel/",
        {"lines": [{"sku": "TEE", "quantity": 0}]},
        format="json",
    )
    assert bad.status_code == 400
    assert Order.objects.get(external_id="L-0").status == "cancelled"
    assert not NodeRequest.objects.exists()
