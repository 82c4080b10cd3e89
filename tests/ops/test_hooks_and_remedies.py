"""Services raise cases in their own transactions; remedies call the owning service, record
the manual touch and resolve (or progress) the case."""

from unittest import mock

import pytest

from fulfillment.models import FulfillmentOrder
from fulfillment.services.feedback import pack_fulfillment, reject_fulfillment
from fulfillment.services.orchestration import Outcome, orchestrate_order
from oms.core.actors import Actor
from oms.core.errors import DomainError
from oms.events.models import Event
from ops.models import CaseStatus, ExceptionCase
from ops.services import remedies
from ops.services.cases import raise_exception_case
from orders.models import HoldKind, LineStatus, OrderLine
from orders.services.cancellation import cancel_order_line
from orders.services.holds import place_hold
from tests.factories.inventory import ProductFactory
from tests.factories.orders import captured_order
from tests.factories.users import superuser

pytestmark = pytest.mark.django_db

NODE = Actor.system("node")


@pytest.fixture
def ops_user(db):
    return superuser("olga")


def touches(order):
    return list(
        Event.objects.for_stream(order.stream)
        .filter(type="order.manual_touch")
        .values_list("payload__remedy", "actor_label")
    )


def test_a_rejection_raises_a_node_rejected_case_on_the_fulfillment(released):
    reject_fulfillment(fulfillment_id=released.pk, reason="flooded aisle", actor=NODE)

    case = ExceptionCase.objects.get()
    assert (case.kind, case.subject_type, case.subject_label) == (
        "node_rejected",
        "fulfillment",
        released.number,
    )
    assert case.order_id == released.order_id
    assert case.summary == "flooded aisle"
    assert (
        Event.objects.for_stream(released.order.stream).filter(type="exception.raised").count() == 1
    )


def test_a_short_pack_raises_short_pick(released):
    line = released.lines.get()
    pack_fulfillment(
        fulfillment_id=released.pk, actor=NODE, picked={line.pk: 1}, short_reason="dmg"
    )

    case = ExceptionCase.objects.get(kind="short_pick")
    assert case.summary == "dmg"
    assert case.details["short"] == [{"line_number": 1, "sku": "TEE", "short": 1}]
    count = ExceptionCase.objects.get(kind="cycle_count")  # the node's count is in doubt
    assert (count.subject_type, count.subject_id) == ("node", released.node_id)
    assert [(s["sku"], s["short"]) for s in count.details["skus"]] == [("TEE", 1)]


def test_fraud_hold_raises_fraud_hold_and_a_manual_hold_raises_nothing(ops_user):
    order = captured_order()
    place_hold(order_id=order.pk, kind=HoldKind.MANUAL, reason="look", actor=NODE)
    assert not ExceptionCase.objects.exists()

    hold = place_hold(order_id=order.pk, kind=HoldKind.FRAUD, reason="velocity", actor=NODE)

    case = ExceptionCase.objects.get()
    assert (case.kind, case.details["hold_id"]) == ("fraud_hold", hold.pk)


def test_a_fraud_hold_asked_for_at_capture_opens_the_same_case_as_one_placed_later(ops_user):
    """One hold path: capture writes its holds through the same function as place_hold, so
    the exception console hears of both in the same way."""
    at_capture = captured_order(external_id="AT-CAPTURE", holds=(("fraud", "velocity"),))
    later = captured_order(external_id="LATER")
    place_hold(order_id=later.pk, kind=HoldKind.FRAUD, reason="velocity", actor=NODE)

    cases = {c.order_id: c for c in ExceptionCase.objects.select_related("queue")}
    assert set(cases) == {at_capture.pk, later.pk}
    first, second = cases[at_capture.pk], cases[later.pk]
    assert (first.kind, first.summary, first.status) == ("fraud_hold", "velocity", "open")
    assert (second.kind, second.summary, second.status) == ("fraud_hold", "velocity", "open")
    assert (first.queue, first.priority) == (second.queue, second.priority)
    assert first.details["hold_id"] == at_capture.holds.get().pk
    for order in (at_capture, later):
        assert [e.type for e in Event.objects.for_stream(order.stream)][-2:] == [
            "order.hold_placed",
            "exception.raised",
        ]


def test_reroute_calls_orchestration_records_the_touch_and_resolves(released, ops_user):
    reject_fulfillment(fulfillment_id=released.pk, reason="no staff", actor=NODE)
    case = ExceptionCase.objects.get()

    with mock.patch.object(remedies, "orchestrate_order", return_value=Outcome.ROUTED) as run:
        remedies.reroute_case(case_id=case.pk, user=ops_user)

    run.assert_called_once_with(order_id=released.order_id, trigger="manual_reroute")
    case.refresh_from_db()
    assert (case.status, case.resolution) == (CaseStatus.RESOLVED, "reroute")
    assert touches(released.order) == [("reroute", "olga")]
    resolved = Event.objects.for_stream(released.order.stream).get(type="exception.resolved")
    assert resolved.payload["remedy"] == "reroute"


def test_reroute_that_backorders_keeps_the_case_in_progress(ops_user):
    order = captured_order()
    case = raise_exception_case(kind="stuck_order", order=order, summary="x")

    with mock.patch.object(remedies, "orchestrate_order", return_value=Outcome.BACKORDERED):
        remedies.reroute_case(case_id=case.pk, user=ops_user)

    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS
    assert "exception.progressed" in Event.objects.for_stream(order.stream).values_list(
        "type", flat=True
    )


def test_release_hold_remedy_releases_through_the_service(ops_user):
    order = captured_order()
    hold = place_hold(order_id=order.pk, kind=HoldKind.ADDRESS, reason="bad zip", actor=NODE)
    case = ExceptionCase.objects.get(kind="address_invalid")

    with mock.patch.object(remedies, "release_hold", wraps=remedies.release_hold) as release:
        remedies.release_case_holds(case_id=case.pk, user=ops_user, note="verified")

    release.assert_called_once_with(
        order_id=order.pk, hold_id=hold.pk, actor=mock.ANY, note="verified"
    )
    hold.refresh_from_db()
    assert hold.status == "released"
    assert touches(order) == [("release_hold", "olga")]
    assert ExceptionCase.objects.get(pk=case.pk).status == CaseStatus.RESOLVED


def test_retry_integration_schedules_the_release(
    ops_user, released, django_capture_on_commit_callbacks
):
    case = raise_exception_case(kind="integration_failed", fulfillment=released, summary="refused")
    FulfillmentOrder.objects.filter(pk=released.pk).update(status="pending")

    with (
        mock.patch("fulfillment.tasks.release_fulfillment_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        remedies.retry_integration(case_id=case.pk, user=ops_user)

    delay.assert_called_once_with(released.pk)
    assert touches(released.order) == [("retry_integration", "olga")]


def test_cancel_line_remedy_cancels_backordered_lines(ops_user, django_capture_on_commit_callbacks):
    ProductFactory(sku="NOSTOCK")
    order = captured_order(skus=["NOSTOCK"])
    with django_capture_on_commit_callbacks(execute=True):
        orchestrate_order(order_id=order.pk)
    case = raise_exception_case(kind="backorder_aged", order=order, summary="waiting")

    remedies.cancel_case_lines(case_id=case.pk, user=ops_user, reason="discontinued")

    line = OrderLine.objects.get(order=order)
    assert line.status == LineStatus.CANCELLED
    types = list(Event.objects.for_stream(order.stream).values_list("type", flat=True))
    assert "order.line_cancelled" in types
    assert touches(order) == [("cancel_line", "olga")]
    assert ExceptionCase.objects.get(pk=case.pk).status == CaseStatus.RESOLVED


def test_a_line_at_a_node_is_refused(released):
    line = released.lines.get().order_line

    with pytest.raises(DomainError) as refused:
        cancel_order_line(order_id=released.order_id, line_id=line.pk, actor=NODE, reason="x")

    assert refused.value.code == "line_at_node"


@pytest.mark.parametrize(
    ("outcome", "event"),
    [("lost", "order.reship_requested"), ("damaged", "order.refund_requested")],
)
def test_mark_lost_or_damaged_records_it_and_asks_for_the_policy(
    ops_user, released, outcome, event
):
    case = raise_exception_case(kind="late_shipment", fulfillment=released, summary="late")

    remedies.mark_parcel(case_id=case.pk, user=ops_user, outcome=outcome)

    case.refresh_from_db()
    assert case.details["parcel"] == outcome
    assert case.status == CaseStatus.RESOLVED
    assert Event.objects.for_stream(released.order.stream).filter(type=event).count() == 1
    assert touches(released.order) == [(f"mark_{outcome}", "olga")]
