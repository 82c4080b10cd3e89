"""Cases close themselves when their condition clears (resolved by the system, remedy
`condition_cleared`, with why in the note), stay open while it holds, and reconciling twice
changes nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fulfillment.models import FulfillmentOrder
from fulfillment.services.feedback import pack_fulfillment, reject_fulfillment
from fulfillment.services.orchestration import orchestrate_order
from fulfillment.services.shipping import Package, ship_fulfillment
from inventory.models import Oversell, StockLevel
from inventory.services.feeds import apply_snapshot
from inventory.services.oversells import resolve_oversell
from oms.core.actors import Actor
from oms.events.models import Event
from ops.models import CaseStatus, ExceptionCase
from ops.services import remedies
from ops.services.cases import assign_case, dismiss_case, raise_exception_case
from ops.services.detectors import detect_stale_feeds, detect_stuck_orders, run_detectors
from ops.services.reconcile import reconcile_open_cases
from orders.models import HoldKind, Order, OrderStatus
from orders.services.holds import place_hold, release_hold
from tests.factories.inventory import NodeFactory, ProductFactory, stocked
from tests.factories.orders import captured_order
from tests.factories.users import superuser

pytestmark = pytest.mark.django_db

NODE = Actor.system("node")


@pytest.fixture
def olga(db):
    return superuser("olga")


def released_fulfillment(django_capture_on_commit_callbacks, **order):
    order = captured_order(skus=["TEE"], **order)
    with django_capture_on_commit_callbacks(execute=True):
        orchestrate_order(order_id=order.pk)
    return FulfillmentOrder.objects.get(order=order)


def resolved(case):
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED, case.status
    assert case.resolution == "condition_cleared"
    return case.resolution_note


def still_open(case):
    case.refresh_from_db()
    return case.status in (CaseStatus.OPEN, CaseStatus.IN_PROGRESS)


def resolved_events(stream):
    return list(Event.objects.for_stream(stream).filter(type="exception.resolved"))


# --- stuck_order -----------------------------------------------------------------------------


def test_a_stuck_order_closes_when_its_status_moves_on(
    two_nodes, django_capture_on_commit_callbacks
):
    order = captured_order(skus=["TEE"])
    [case_id] = detect_stuck_orders(now=timezone.now() + timedelta(minutes=16))
    case = ExceptionCase.objects.get(pk=case_id)

    assert reconcile_open_cases() == []
    assert still_open(case)

    with django_capture_on_commit_callbacks(execute=True):
        orchestrate_order(order_id=order.pk)

    assert reconcile_open_cases() == [case.pk]
    assert resolved(case) == "Order progressed to released (was created)"
    [event] = resolved_events(order.stream)
    assert (event.actor_kind, event.actor_label) == ("system", "exceptions")
    assert event.payload["remedy"] == "condition_cleared"
    assert event.payload["case_id"] == case.pk


def test_an_unroutable_order_closes_once_routed(two_nodes, django_capture_on_commit_callbacks):
    order = captured_order(skus=["TEE"])
    case = raise_exception_case(
        kind="stuck_order", order=order, summary="unroutable", details={"reason": "unroutable"}
    )

    assert reconcile_open_cases() == []

    with django_capture_on_commit_callbacks(execute=True):
        orchestrate_order(order_id=order.pk)

    assert reconcile_open_cases() == [case.pk]
    assert resolved(case) == "Order routed"


# --- late_shipment ---------------------------------------------------------------------------


def test_a_late_shipment_closes_when_the_fulfillment_ships(
    two_nodes, django_capture_on_commit_callbacks
):
    fo = released_fulfillment(django_capture_on_commit_callbacks)
    case = raise_exception_case(kind="late_shipment", fulfillment=fo, summary="late")

    assert reconcile_open_cases() == []

    ship_fulfillment(
        fulfillment_id=fo.pk, actor=NODE, packages=[Package(carrier="UPS", tracking_number="1Z")]
    )

    assert reconcile_open_cases() == [case.pk]
    assert resolved(case) == "Fulfillment shipped"


# --- backorder_aged --------------------------------------------------------------------------


def test_an_aged_backorder_closes_when_stock_is_allocated(django_capture_on_commit_callbacks):
    mug = ProductFactory(sku="MUG")
    dc = NodeFactory(code="dc-east")
    stocked(dc, mug, on_hand=0)
    order = captured_order(skus=["MUG"])
    with django_capture_on_commit_callbacks(execute=True):
        orchestrate_order(order_id=order.pk)
    order.refresh_from_db()
    assert order.status == OrderStatus.BACKORDERED
    case = raise_exception_case(kind="backorder_aged", order=order, summary="waiting")

    assert reconcile_open_cases() == []

    with django_capture_on_commit_callbacks(execute=True):
        apply_snapshot(
            node_code="dc-east",
            as_of=timezone.now(),
            counts={"MUG": 4},
            source="api:dc-east",
            message_id="count-1",
            actor=NODE,
        )

    assert reconcile_open_cases() == [case.pk]
    assert resolved(case) == "Backorder allocated"


# --- holds -----------------------------------------------------------------------------------


def test_releasing_a_hold_closes_its_case_at_once_in_the_same_transaction():
    order = captured_order()
    hold = place_hold(order_id=order.pk, kind=HoldKind.FRAUD, reason="velocity", actor=NODE)
    case = ExceptionCase.objects.get(kind="fraud_hold")

    release_hold(order_id=order.pk, hold_id=hold.pk, actor=NODE, note="customer verified")

    assert resolved(case) == "Hold released by node: customer verified"
    types = list(Event.objects.for_stream(order.stream).values_list("type", flat=True))
    assert types[-2:] == ["order.hold_released", "exception.resolved"]
    assert reconcile_open_cases() == []


def test_a_hold_case_stays_open_while_its_hold_is_active_and_reconcile_catches_a_release():
    order = captured_order()
    hold = place_hold(order_id=order.pk, kind=HoldKind.ADDRESS, reason="bad zip", actor=NODE)
    case = ExceptionCase.objects.get(kind="address_invalid")

    assert reconcile_open_cases() == []
    assert still_open(case)

    # released without going through release_hold (e.g. before this code existed)
    type(hold).objects.filter(pk=hold.pk).update(status="released", released_by="legacy")

    assert reconcile_open_cases() == [case.pk]
    assert resolved(case) == "Hold released by legacy"


def test_other_holds_stay_open_when_one_is_released():
    order = captured_order()
    fraud = place_hold(order_id=order.pk, kind=HoldKind.FRAUD, reason="x", actor=NODE)
    place_hold(order_id=order.pk, kind=HoldKind.ADDRESS, reason="y", actor=NODE)

    release_hold(order_id=order.pk, hold_id=fraud.pk, actor=NODE)

    assert ExceptionCase.objects.get(kind="fraud_hold").status == CaseStatus.RESOLVED
    address = ExceptionCase.objects.get(kind="address_invalid")
    assert still_open(address)
    assert reconcile_open_cases() == []


def test_the_release_hold_remedy_resolves_its_case_once_as_the_person(olga):
    order = captured_order()
    place_hold(order_id=order.pk, kind=HoldKind.PAYMENT, reason="review", actor=NODE)
    case = ExceptionCase.objects.get(kind="payment_failed")

    remedies.release_case_holds(case_id=case.pk, user=olga, note="ok")

    case.refresh_from_db()
    assert (case.status, case.resolution) == (CaseStatus.RESOLVED, "release_hold")
    [event] = resolved_events(order.stream)
    assert (event.actor_label, event.payload["remedy"]) == ("olga", "release_hold")


def test_a_refused_capture_stays_open_while_the_payment_is_failed():
    order = captured_order()
    Order.objects.filter(pk=order.pk).update(payment_status="failed")
    case = raise_exception_case(
        kind="payment_failed", order=order, summary="declined", details={"code": "declined"}
    )

    assert reconcile_open_cases() == []
    assert still_open(case)


# --- integration_failed ----------------------------------------------------------------------


def test_a_stale_feed_closes_when_a_count_arrives(db):
    dc = NodeFactory(code="dc-stale")
    stocked(dc, ProductFactory(sku="TEE"), on_hand=3)
    StockLevel.objects.filter(node=dc).update(last_reported_at=timezone.now() - timedelta(hours=30))
    [case_id] = detect_stale_feeds()
    case = ExceptionCase.objects.get(pk=case_id)

    assert reconcile_open_cases() == []

    apply_snapshot(
        node_code="dc-stale",
        as_of=timezone.now(),
        counts={"TEE": 3},
        source="api:dc-stale",
        message_id="count-1",
        actor=NODE,
    )

    assert reconcile_open_cases() == [case.pk]
    assert resolved(case).startswith("Inventory feed received from dc-stale (counts as of ")
    assert run_detectors()["stale_feeds"] == 0


def test_a_refused_release_closes_once_the_fulfillment_is_released(
    two_nodes, django_capture_on_commit_callbacks
):
    fo = released_fulfillment(django_capture_on_commit_callbacks)
    FulfillmentOrder.objects.filter(pk=fo.pk).update(status="pending")
    case = raise_exception_case(kind="integration_failed", fulfillment=fo, summary="refused")

    assert reconcile_open_cases() == []

    FulfillmentOrder.objects.filter(pk=fo.pk).update(status="released")

    assert reconcile_open_cases() == [case.pk]
    assert resolved(case) == "Fulfillment released to dc-east"


def test_a_dead_message_closes_once_it_is_processed(db):
    from integrations.models import InboundMessage

    message = InboundMessage.objects.create(
        source="x12:dc",
        message_id="m1",
        kind="x12.945",
        payload={},
        fingerprint="f",
        status="dead",
        received_at=timezone.now(),
    )
    case = raise_exception_case(kind="integration_failed", message=message, summary="bad file")

    assert reconcile_open_cases() == []

    # re-processed from the inbound log's admin, not from the case
    InboundMessage.objects.filter(pk=message.pk).update(status="processed")

    assert reconcile_open_cases() == [case.pk]
    assert resolved(case) == "Message processed"


# --- oversell --------------------------------------------------------------------------------


def test_an_oversell_case_closes_when_the_node_has_no_open_oversell(
    two_nodes, django_capture_on_commit_callbacks
):
    released_fulfillment(django_capture_on_commit_callbacks, quantity=3)
    apply_snapshot(
        node_code="dc-east",
        as_of=timezone.now(),
        counts={"TEE": 1},
        source="api:dc-east",
        message_id="count-1",
        actor=NODE,
    )
    case = ExceptionCase.objects.get(kind="oversell")

    assert reconcile_open_cases() == []

    resolve_oversell(oversell_id=Oversell.objects.get().pk, actor=NODE, note="recounted")

    assert reconcile_open_cases() == [case.pk]
    assert resolved(case) == "Oversells at dc-east resolved"


# --- node_rejected / short_pick --------------------------------------------------------------


def test_a_rejection_closes_once_its_lines_are_routed_again(
    two_nodes, django_capture_on_commit_callbacks
):
    fo = released_fulfillment(django_capture_on_commit_callbacks, quantity=2)
    reject_fulfillment(fulfillment_id=fo.pk, reason="flooded", actor=NODE)  # reroute not run
    case = ExceptionCase.objects.get(kind="node_rejected")

    assert reconcile_open_cases() == []

    with django_capture_on_commit_callbacks(execute=True):
        orchestrate_order(order_id=fo.order_id, trigger="reroute")

    assert FulfillmentOrder.objects.filter(order_id=fo.order_id, node__code="dc-west").exists()
    assert reconcile_open_cases() == [case.pk]
    assert resolved(case) == "Rejected lines routed again"


def test_a_short_pick_stays_open_while_nothing_can_take_the_rest(
    django_capture_on_commit_callbacks,
):
    tee = ProductFactory(sku="TEE")
    stocked(NodeFactory(code="dc-east"), tee, on_hand=2)
    fo = released_fulfillment(django_capture_on_commit_callbacks, quantity=2)
    line = fo.lines.get()
    with django_capture_on_commit_callbacks(execute=True):
        pack_fulfillment(fulfillment_id=fo.pk, actor=NODE, picked={line.pk: 1}, short_reason="x")
    case = ExceptionCase.objects.get(kind="short_pick")

    assert reconcile_open_cases() == []  # the short unit waits for stock: backordered
    assert still_open(case)

    stocked(NodeFactory(code="dc-west"), tee, on_hand=5)
    with django_capture_on_commit_callbacks(execute=True):
        orchestrate_order(order_id=fo.order_id, trigger="reroute")

    assert reconcile_open_cases() == [case.pk]
    assert resolved(case) == "Short quantities routed again"


# --- cycle_count ------------------------------------------------------------------------------


def short_pack(django_capture_on_commit_callbacks, sku):
    order = captured_order(skus=[sku], quantity=2, external_id=f"SHORT-{sku}")
    with django_capture_on_commit_callbacks(execute=True):
        orchestrate_order(order_id=order.pk)
    fo = FulfillmentOrder.objects.get(order=order)
    line = fo.lines.get()
    pack_fulfillment(fulfillment_id=fo.pk, actor=NODE, picked={line.pk: 1}, short_reason="gone")
    return fo


def test_one_cycle_count_per_node_lists_its_skus_and_a_count_narrows_then_closes_it(
    django_capture_on_commit_callbacks,
):
    east = NodeFactory(code="dc-east")
    for sku in ("TEE", "MUG"):
        stocked(east, ProductFactory(sku=sku), on_hand=5)
    short_pack(django_capture_on_commit_callbacks, "TEE")
    between = timezone.now()
    short_pack(django_capture_on_commit_callbacks, "MUG")

    case = ExceptionCase.objects.get(kind="cycle_count")
    assert (case.subject_label, case.occurrences) == ("dc-east", 2)
    assert [(s["sku"], s["short"]) for s in case.details["skus"]] == [("MUG", 1), ("TEE", 1)]
    assert reconcile_open_cases() == []

    # a count as of between the two short picks covers TEE only
    apply_snapshot(
        node_code="dc-east",
        as_of=between,
        counts={"TEE": 4, "MUG": 4},
        source="test",
        message_id="c-1",
        actor=NODE,
    )
    assert still_open(case)
    assert [s["sku"] for s in case.details["skus"]] == ["MUG"]
    assert case.occurrences == 2

    apply_snapshot(
        node_code="dc-east",
        as_of=timezone.now(),
        counts={"TEE": 4, "MUG": 4},
        source="test",
        message_id="c-2",
        actor=NODE,
    )
    assert resolved(case).startswith("Counted: snapshot of dc-east as of ")


def test_reconcile_closes_a_cycle_count_whose_skus_were_counted(
    django_capture_on_commit_callbacks,
):
    stocked(NodeFactory(code="dc-east"), ProductFactory(sku="TEE"), on_hand=5)
    short_pack(django_capture_on_commit_callbacks, "TEE")
    case = ExceptionCase.objects.get(kind="cycle_count")
    assert reconcile_open_cases() == []

    StockLevel.objects.update(last_reported_at=timezone.now() + timedelta(minutes=1))

    assert reconcile_open_cases() == [case.pk]
    assert resolved(case) == "Counted: every short SKU at dc-east was counted since"


# --- people, idempotency, kinds left to people -----------------------------------------------


def test_a_case_someone_works_on_is_resolved_too_and_the_note_says_so(
    olga, two_nodes, django_capture_on_commit_callbacks
):
    fo = released_fulfillment(django_capture_on_commit_callbacks)
    case = raise_exception_case(kind="late_shipment", fulfillment=fo, summary="late")
    assign_case(case_id=case.pk, assignee=olga, user=olga)
    ship_fulfillment(
        fulfillment_id=fo.pk, actor=NODE, packages=[Package(carrier="UPS", tracking_number="1Z")]
    )

    assert reconcile_open_cases() == [case.pk]

    assert (
        resolved(case) == "Fulfillment shipped (closed automatically while in progress with olga)"
    )


def test_reconcile_is_idempotent_and_leaves_closed_cases_alone(
    olga, two_nodes, django_capture_on_commit_callbacks
):
    fo = released_fulfillment(django_capture_on_commit_callbacks)
    late = raise_exception_case(kind="late_shipment", fulfillment=fo, summary="late")
    dismissed = raise_exception_case(kind="integration_failed", fulfillment=fo, summary="x")
    dismiss_case(case_id=dismissed.pk, user=olga, note="noise")
    lost = raise_exception_case(kind="lost_parcel", fulfillment=fo, summary="lost")
    ship_fulfillment(
        fulfillment_id=fo.pk, actor=NODE, packages=[Package(carrier="UPS", tracking_number="1Z")]
    )

    first = reconcile_open_cases()
    second = reconcile_open_cases()
    via_detectors = run_detectors()

    assert (first, second, via_detectors["resolved"]) == ([late.pk], [], 0)
    assert len(resolved_events(fo.order.stream)) == 1
    dismissed.refresh_from_db()
    assert (dismissed.status, dismissed.resolution) == (CaseStatus.DISMISSED, "dismissed")
    assert still_open(lost)  # people decide about parcels
