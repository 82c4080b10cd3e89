"""The return FSM through its services: policy checks explained, receipt, inspection with a
disposition per unit, restock into the ledger."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from oms.core.errors import DomainError, InvalidInput
from oms.events.models import Event
from returns.models import Exchange, Return, ReturnPolicy
from returns.policy import RequestedLine, create_return_policy
from returns.services.receipt import inspect_return, receive_return
from returns.services.requests import (
    ReturnRequest,
    authorize_return,
    cancel_return,
    reject_return,
    request_return,
)
from tests.factories.inventory import ProductFactory, stocked
from tests.returns.support import SYSTEM, ledger, shipped_order, stock

pytestmark = pytest.mark.django_db


def _types(order):
    return list(
        Event.objects.filter(stream=order.stream, type__startswith="return.")
        .order_by("seq")
        .values_list("type", flat=True)
    )


def test_a_return_goes_from_requested_to_closed_restocks_and_refunds(
    nodes, django_capture_on_commit_callbacks
):
    # given
    with django_capture_on_commit_callbacks(execute=True):
        order = shipped_order(nodes["dc"], external_id="R1", lines=[("TEE", 3, "20.00")])
    assert stock(nodes["dc"], "TEE") == (7, 0)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        rma = request_return(
            order_id=order.pk,
            request=ReturnRequest(lines=[RequestedLine(1, 2, "size_fit", "opened")]),
            actor=SYSTEM,
        )
        authorize_return(return_id=rma.pk, actor=SYSTEM)
        receive_return(return_id=rma.pk, node_id=nodes["dc"].pk, actor=SYSTEM)
        inspect_return(
            return_id=rma.pk, dispositions={1: {"restock": 1, "damaged": 1}}, actor=SYSTEM
        )

    # then
    rma.refresh_from_db()
    assert rma.status == "closed"  # refunded on commit after the inspection
    assert rma.refunds.get().amount == Decimal("40.00")  # no restocking fee by default
    assert rma.number.startswith("RMA-")
    assert stock(nodes["dc"], "TEE") == (8, 0)
    assert ledger(nodes["dc"], "TEE", "return_restock") == [1]
    assert _types(order) == [
        "return.requested",
        "return.authorized",
        "return.received",
        "return.inspected",
        "return.closed",
    ]
    restocked = Event.objects.get(type="inventory.return_restocked")
    assert restocked.payload["lines"] == [
        {"sku": "TEE", "quantity": 1, "on_hand": 8, "available": 8}
    ]


def test_the_window_refusal_names_the_dates_and_the_policy_version(nodes):
    order = shipped_order(nodes["dc"], external_id="R2", lines=[("TEE", 1, "20.00")])
    order.fulfillment_orders.update(shipped_at=timezone.now() - timedelta(days=45))

    with pytest.raises(DomainError) as refused:
        request_return(
            order_id=order.pk,
            request=ReturnRequest(lines=[RequestedLine(1, 1, "changed_mind")]),
            actor=SYSTEM,
        )

    assert refused.value.code == "return_window_closed"
    assert refused.value.http_status == 422
    assert "30-day return window (policy default v1) closed on" in refused.value.detail
    assert not Return.objects.exists()


def test_a_new_policy_version_applies_and_refuses_non_returnable_skus(nodes):
    order = shipped_order(nodes["dc"], external_id="R3", lines=[("GIFTCARD", 1, "50.00")])
    policy = create_return_policy(
        channel=order.channel, terms={"non_returnable_skus": ["giftcard"]}, actor=SYSTEM
    )

    with pytest.raises(DomainError) as refused:
        request_return(
            order_id=order.pk,
            request=ReturnRequest(lines=[RequestedLine(1, 1, "changed_mind")]),
            actor=SYSTEM,
        )

    assert policy.version == 1
    assert refused.value.code == "sku_not_returnable"
    assert refused.value.detail == "GIFTCARD cannot be returned (policy web v1)."


def test_invalid_policy_terms_are_refused_each_with_its_field(db):
    with pytest.raises(InvalidInput) as refused:
        create_return_policy(
            channel=None,
            terms={"window_days": -1, "restocking_fee_percent": "150", "bogus": 1},
            actor=SYSTEM,
        )

    fields = sorted(e.field for e in refused.value.errors)
    assert fields == ["bogus", "restocking_fee_percent", "window_days"]
    assert ReturnPolicy.objects.count() == 1  # the migration's default only


def test_more_than_shipped_or_already_returned_is_refused(nodes):
    order = shipped_order(nodes["dc"], external_id="R4", lines=[("TEE", 2, "20.00")])
    request_return(
        order_id=order.pk,
        request=ReturnRequest(lines=[RequestedLine(1, 1, "size_fit")]),
        actor=SYSTEM,
    )

    with pytest.raises(InvalidInput) as refused:
        request_return(
            order_id=order.pk,
            request=ReturnRequest(lines=[RequestedLine(1, 2, "size_fit")]),
            actor=SYSTEM,
        )

    assert refused.value.errors[0].code == "quantity_exceeds_returnable"
    assert refused.value.errors[0].detail == (
        "Line 1: 2 asked, 1 returnable (2 shipped, 1 already in returns)."
    )


def test_dispositions_must_cover_every_unit_received(nodes):
    order = shipped_order(nodes["dc"], external_id="R5", lines=[("TEE", 2, "20.00")])
    rma = request_return(
        order_id=order.pk,
        request=ReturnRequest(lines=[RequestedLine(1, 2, "size_fit")], authorize=True),
        actor=SYSTEM,
    )
    receive_return(return_id=rma.pk, node_id=nodes["dc"].pk, actor=SYSTEM, received={1: 2})

    with pytest.raises(InvalidInput) as refused:
        inspect_return(return_id=rma.pk, dispositions={1: {"restock": 1}}, actor=SYSTEM)

    assert refused.value.errors[0].code == "dispositions_do_not_add_up"
    assert stock(nodes["dc"], "TEE") == (8, 0)
    assert ledger(nodes["dc"], "TEE", "return_restock") == []


def test_reject_and_cancel_end_a_return(nodes):
    order = shipped_order(nodes["dc"], external_id="R6", lines=[("TEE", 2, "20.00")])
    first = request_return(
        order_id=order.pk, request=ReturnRequest(lines=[RequestedLine(1, 1, "other")]), actor=SYSTEM
    )
    second = request_return(
        order_id=order.pk, request=ReturnRequest(lines=[RequestedLine(1, 1, "other")]), actor=SYSTEM
    )

    reject_return(return_id=first.pk, reason="worn", actor=SYSTEM)
    cancel_return(return_id=second.pk, reason="customer kept it", actor=SYSTEM)
    with pytest.raises(DomainError) as refused:
        authorize_return(return_id=first.pk, actor=SYSTEM)

    assert refused.value.code == "return_transition_refused"
    assert _types(order) == [
        "return.requested",
        "return.requested",
        "return.rejected",
        "return.cancelled",
    ]


@pytest.mark.parametrize(
    ("_case", "end", "because"),
    [
        ("cancelled", cancel_return, "return_cancelled"),
        ("rejected", reject_return, "return_rejected"),
    ],
)
def test_an_exchange_ends_with_its_return_and_says_so(nodes, _case, end, because):
    # given: an even exchange waiting for its return (nothing placed yet)
    order = shipped_order(nodes["dc"], external_id=f"R7-{_case}", lines=[("TEE-M", 1, "20.00")])
    stocked(nodes["dc"], ProductFactory(sku="TEE-L"), on_hand=5)
    rma = request_return(
        order_id=order.pk,
        request=ReturnRequest(
            lines=[RequestedLine(1, 1, "size_fit", "unopened", exchange_sku="TEE-L")],
            exchange_kind="even",
        ),
        actor=SYSTEM,
    )

    # when
    end(return_id=rma.pk, reason="customer kept it", actor=SYSTEM)

    # then: the exchange is cancelled with its own event, right after the return's
    exchange = Exchange.objects.get(rma=rma)
    events = list(
        Event.objects.filter(stream=order.stream, type__regex=r"^(return|exchange)\.")
        .order_by("seq")
        .values_list("type", "payload")
    )
    assert exchange.status == "cancelled"
    assert exchange.replacement_order_id is None
    assert [t for t, _ in events] == [
        "return.requested",
        "exchange.created",
        f"return.{_case}",
        "exchange.cancelled",
    ]
    assert events[-1][1] == {
        "return": rma.number,
        "kind": "even",
        "because": because,
        "reason": "customer kept it",
        "value": "20.00",
        "currency": "USD",
    }
    assert stock(nodes["dc"], "TEE-L") == (5, 0)


def test_cancelling_a_return_without_an_exchange_records_no_exchange_event(nodes):
    order = shipped_order(nodes["dc"], external_id="R8", lines=[("TEE", 1, "20.00")])
    rma = request_return(
        order_id=order.pk, request=ReturnRequest(lines=[RequestedLine(1, 1, "other")]), actor=SYSTEM
    )

    cancel_return(return_id=rma.pk, reason="kept it", actor=SYSTEM)

    assert not Event.objects.filter(stream=order.stream, type__startswith="exchange.").exists()
