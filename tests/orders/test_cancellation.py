"""Cancelling a line whose fulfillment order is still pending release: the units come off the
fulfillment order (which is cancelled when nothing is left), the stock is released exactly, the
order rolls up, in one transaction under the order lock. Lines at a node are still refused."""

from unittest import mock

import pytest
from django.db import transaction
from django.urls import reverse

from fulfillment.connectors.base import ApiConnector, ReleaseAck
from fulfillment.models import FulfillmentOrder, FulfillmentStatus
from fulfillment.services.fulfillment_orders import create_fulfillment_orders, release_fulfillment
from fulfillment.services.orchestration import orchestrate_order
from fulfillment.services.routing import route_order
from inventory.models import Reservation, ReservationStatus, StockLevel
from inventory.selectors import find_ledger_mismatches
from oms.core.actors import Actor
from oms.core.errors import DomainError
from oms.events.models import Event
from ops.models import CaseStatus, ExceptionCase
from ops.services import remedies
from ops.services.cases import CHANGED_WHILE_RELEASING, raise_exception_case
from ops.services.reconcile import reconcile_open_cases
from orders.models import HoldKind, LineStatus, OrderLine, OrderStatus
from orders.services.cancellation import cancel_order_line
from orders.services.holds import place_hold, release_hold
from tests.factories.inventory import NodeFactory, ProductFactory, stocked, two_dcs
from tests.factories.orders import captured_order
from tests.factories.users import staff_user, superuser

pytestmark = pytest.mark.django_db

CS = Actor.system("customer-service")


@pytest.fixture
def dc(db):
    dc = NodeFactory(code="dc-east")
    stocked(dc, ProductFactory(sku="TEE"), on_hand=10)
    stocked(dc, ProductFactory(sku="MUG"), on_hand=10)
    return dc


@pytest.fixture
def pending(dc):
    """A held two-line order (TEE × 2, MUG × 2): routed to dc-east, its one fulfillment order
    waiting for release while the hold is on."""
    order = captured_order(skus=["TEE", "MUG"], quantity=2)
    place_hold(order_id=order.pk, kind=HoldKind.MANUAL, reason="check address", actor=CS)
    _route_ignoring_hold(order)
    fo = FulfillmentOrder.objects.get(order=order)
    assert fo.status == FulfillmentStatus.PENDING
    assert release_fulfillment(fulfillment_id=fo.pk) == "on_hold"
    return order, fo


def _route_ignoring_hold(order):
    """Route as capture did before the hold was placed (orchestration stops at the hold)."""
    with transaction.atomic():
        route_order(order_id=order.pk, actor=CS, trigger="capture")
        create_fulfillment_orders(order=order, actor=CS)


def line(order, sku):
    return OrderLine.objects.get(order=order, sku=sku)


def stock(sku):
    level = StockLevel.objects.get(node__code="dc-east", product__sku=sku)
    return level.on_hand, level.reserved, level.available


def events(order, type_):
    return list(Event.objects.for_stream(order.stream).filter(type=type_).order_by("seq"))


def test_one_of_two_lines_leaves_the_pending_fulfillment_which_keeps_the_other(pending):
    order, fo = pending
    tee = line(order, "TEE")
    assert stock("TEE") == (10, 2, 8)

    cancel_order_line(order_id=order.pk, line_id=tee.pk, actor=CS, reason="changed mind")

    tee.refresh_from_db()
    fo.refresh_from_db()
    assert tee.status == LineStatus.CANCELLED
    assert fo.status == FulfillmentStatus.PENDING
    assert [fl.order_line.sku for fl in fo.lines.select_related("order_line")] == ["MUG"]
    assert stock("TEE") == (10, 0, 10)
    assert stock("MUG") == (10, 2, 8)
    assert Reservation.objects.get(order_line=tee).status == ReservationStatus.RELEASED
    assert line(order, "MUG").status == LineStatus.ALLOCATED
    order.refresh_from_db()
    assert order.status == OrderStatus.ALLOCATED
    [cancelled] = events(order, "order.line_cancelled")
    assert cancelled.payload["released_units"] == 2
    # Fulfillment records its own part, caused by the cancellation.
    [removed] = events(order, "fulfillment.line_removed")
    assert removed.payload == {
        "fulfillment": fo.number,
        "node": "dc-east",
        "line_number": tee.line_number,
        "units": 2,
    }
    assert removed.causation_id == cancelled.event_id
    assert events(order, "fulfillment.cancelled") == []
    assert find_ledger_mismatches() == []


def test_the_last_line_cancels_the_pending_fulfillment(pending):
    order, fo = pending
    cancel_order_line(order_id=order.pk, line_id=line(order, "TEE").pk, actor=CS, reason="a")

    cancel_order_line(order_id=order.pk, line_id=line(order, "MUG").pk, actor=CS, reason="b")

    fo.refresh_from_db()
    assert fo.status == FulfillmentStatus.CANCELLED
    assert fo.close_reason == "line 2 cancelled: b"
    assert [fl.order_line.sku for fl in fo.lines.select_related("order_line")] == ["MUG"]
    assert stock("TEE") == (10, 0, 10)
    assert stock("MUG") == (10, 0, 10)
    last = events(order, "order.line_cancelled")[-1]
    [fo_cancelled] = events(order, "fulfillment.cancelled")
    assert fo_cancelled.payload == {
        "fulfillment": fo.number,
        "node": "dc-east",
        "reason": "line 2 cancelled: b",
        "units": 2,
    }
    assert fo_cancelled.causation_id == last.event_id
    assert find_ledger_mismatches() == []


def test_a_whole_single_line_order_and_then_releasing_the_hold_routes_nothing(
    dc, django_capture_on_commit_callbacks
):
    order = captured_order(skus=["TEE"], quantity=3)
    hold = place_hold(order_id=order.pk, kind=HoldKind.MANUAL, reason="wait", actor=CS)
    _route_ignoring_hold(order)
    fo = FulfillmentOrder.objects.get(order=order)
    assert stock("TEE") == (10, 3, 7)

    cancel_order_line(order_id=order.pk, line_id=line(order, "TEE").pk, actor=CS, reason="x")
    with django_capture_on_commit_callbacks(execute=True):
        release_hold(order_id=order.pk, hold_id=hold.pk, actor=CS)

    fo.refresh_from_db()
    assert fo.status == FulfillmentStatus.CANCELLED
    assert FulfillmentOrder.objects.filter(order=order).count() == 1
    assert stock("TEE") == (10, 0, 10)
    assert not Reservation.objects.filter(
        order_line__order=order, status=ReservationStatus.ACTIVE
    ).exists()


def test_the_release_after_a_cancellation_sends_only_the_remaining_lines(pending):
    order, fo = pending
    cancel_order_line(order_id=order.pk, line_id=line(order, "TEE").pk, actor=CS, reason="x")
    hold = order.holds.get()
    release_hold(order_id=order.pk, hold_id=hold.pk, actor=CS)

    with mock.patch.object(ApiConnector, "send", return_value=ReleaseAck("")) as send:
        assert release_fulfillment(fulfillment_id=fo.pk) == "released"

    assert [sent.sku for sent in send.call_args.args[0].lines] == ["MUG"]
    assert line(order, "MUG").status == LineStatus.RELEASED
    order.refresh_from_db()
    assert order.status == OrderStatus.RELEASED
    assert not ExceptionCase.objects.exists()


def test_a_line_cancelled_while_its_release_was_being_sent_raises_a_case(pending):
    order, fo = pending
    order.holds.update(status="released")  # the hold is gone; release goes ahead
    tee = line(order, "TEE")

    def cancel_meanwhile(payload):
        cancel_order_line(order_id=order.pk, line_id=tee.pk, actor=CS, reason="late")
        return ReleaseAck("")

    with mock.patch.object(ApiConnector, "send", side_effect=cancel_meanwhile):
        assert release_fulfillment(fulfillment_id=fo.pk) == "released"

    case = ExceptionCase.objects.get()
    assert (case.kind, case.subject_label) == ("integration_failed", fo.number)
    assert case.details["reason"] == CHANGED_WHILE_RELEASING
    assert reconcile_open_cases() == []  # only a person can settle it with the node


def test_a_fulfillment_cancelled_while_being_sent_raises_a_case(pending):
    order, fo = pending
    order.holds.update(status="released")

    def cancel_meanwhile(payload):
        for sku in ("TEE", "MUG"):
            cancel_order_line(order_id=order.pk, line_id=line(order, sku).pk, actor=CS, reason="x")
        return ReleaseAck("")

    with mock.patch.object(ApiConnector, "send", side_effect=cancel_meanwhile):
        assert release_fulfillment(fulfillment_id=fo.pk) == "not_pending"

    fo.refresh_from_db()
    assert fo.status == FulfillmentStatus.CANCELLED
    case = ExceptionCase.objects.get()
    assert "while it was being cancelled" in case.summary
    assert case.details["reason"] == CHANGED_WHILE_RELEASING


def test_a_line_partly_at_a_node_is_still_refused_and_nothing_changes(db):
    two_dcs(on_hand=2, connector="pushed")
    order = captured_order(skus=["TEE"], quantity=4)
    orchestrate_order(order_id=order.pk)
    first, second = FulfillmentOrder.objects.filter(order=order).order_by("id")
    release_fulfillment(fulfillment_id=first.pk)

    with pytest.raises(DomainError) as refused:
        cancel_order_line(order_id=order.pk, line_id=line(order, "TEE").pk, actor=CS, reason="x")

    assert refused.value.code == "line_at_node"
    second.refresh_from_db()
    assert second.status == FulfillmentStatus.PENDING
    assert second.lines.count() == 1
    assert Reservation.objects.filter(status=ReservationStatus.ACTIVE).count() == 2


def test_the_cancel_lines_remedy_cancels_a_chosen_line_of_a_pending_fulfillment(pending):
    order, fo = pending
    user = superuser("olga")
    case = raise_exception_case(kind="stuck_order", order=order, summary="customer called")

    remedies.cancel_case_lines(
        case_id=case.pk, user=user, line_ids=[line(order, "MUG").pk], reason="out of budget"
    )

    assert line(order, "MUG").status == LineStatus.CANCELLED
    assert line(order, "TEE").status == LineStatus.ALLOCATED
    assert stock("MUG") == (10, 0, 10)
    case.refresh_from_db()
    assert (case.status, case.resolution) == (CaseStatus.RESOLVED, "cancel_line")


@pytest.mark.parametrize("who", ["superuser", "customer_service"])
def test_the_order_page_cancel_line_action(pending, client, who):
    order, fo = pending
    user = superuser("boss") if who == "superuser" else staff_user("cs", "customer_service")
    client.force_login(user)
    url = reverse("admin:orders_order_cancel_line_detail", args=[order.pk])
    tee = line(order, "TEE")

    dialog = client.get(url)
    response = client.post(
        url, {"_form_submitted": "True", "line": tee.pk, "reason": "customer called"}
    )

    assert dialog.status_code == 200
    assert "TEE × 2" in dialog.text
    assert response.status_code == 302
    tee.refresh_from_db()
    assert tee.status == LineStatus.CANCELLED
    assert stock("TEE") == (10, 0, 10)
    [cancelled] = events(order, "order.line_cancelled")
    assert (cancelled.actor_kind, cancelled.payload["reason"]) == ("user", "customer called")


def test_the_order_page_cancel_line_action_needs_change_order(pending, client):
    order, _fo = pending
    client.force_login(staff_user("viewer"))
    url = reverse("admin:orders_order_cancel_line_detail", args=[order.pk])
    tee = line(order, "TEE")

    client.post(url, {"_form_submitted": "True", "line": tee.pk, "reason": "x"})

    tee.refresh_from_db()
    assert tee.status == LineStatus.ALLOCATED
