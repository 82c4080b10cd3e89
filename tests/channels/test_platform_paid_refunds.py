"""Refunds of orders paid at the platform (ADR 14): WooCommerce's corpus order 727 comes in
`processing` (paid at the store), so oms never captured it. A refund made in oms (customer
service's appeasement, through `refund_payment` like every refund) is recorded with the platform
as its provider, and the real `order.payment_refunded` sends it to the store through the outbox
with `api_refund` on: the store's gateway pays the customer back, once."""

import json
from decimal import Decimal
from typing import Any

import pytest

from channels.models import OutboundCall, OutboundStatus
from channels.services.setup import create_channel
from oms.core.actors import Actor
from oms.core.errors import DomainError
from oms.events.models import Event
from orders.models import Order, PaymentStatus, PaymentTransaction
from orders.selectors import payment_summary
from orders.services.payments import refund_payment
from returns.services.refunds import appease
from tests.channels.conftest import send_until_done
from tests.channels.platforms import SECRET, post
from tests.corpus import corpus, needs

pytestmark = [pytest.mark.django_db, needs("woocommerce")]

CS = Actor.system("customer service")
REFUNDS = "/wp-json/wc/v3/orders/727/refunds"


def load(part: str) -> Any:
    return json.loads(corpus(part).read_text(), parse_float=Decimal)


@pytest.fixture
def woo_order(client, warehouse, fake) -> Order:
    from tests.factories.inventory import ProductFactory, stocked

    stocked(warehouse, ProductFactory(sku="WOO-SINGLE-1"), on_hand=5)
    create_channel(
        code="woo",
        platform="woocommerce",
        webhook_secret=SECRET,
        base_url=f"{fake.base_url}/wp-json/wc/v3",
        credentials="ck_test:cs_test",
        settings={"sku_map": {"93": "WOO-SINGLE-1"}},
    )
    answer = post(
        client, "woocommerce", "woo", load("woocommerce/wp_api_v3__orders__create_an_order.json")
    )
    assert answer.json()["results"][0]["status"] == "captured"
    order = Order.objects.get()
    assert order.payment_status == PaymentStatus.PAID  # `processing`: paid at the store
    assert not PaymentTransaction.objects.exists()  # oms captured nothing
    return order


def test_an_appeasement_reaches_the_store_once_with_its_gateway_refund_after_two_500s(
    woo_order, fake, django_capture_on_commit_callbacks
):
    # the store lists its refunds (the corpus' two, none of them ours), then makes ours
    fake.answer(
        "GET", REFUNDS, corpus("woocommerce/wp_api_v3__order-refunds__list_all_refunds.json")
    )
    fake.answer(
        "POST", REFUNDS, corpus("woocommerce/wp_api_v3__order-refunds__create_a_refund.json"), 201
    )
    fake.fail_first("POST", REFUNDS, times=2)
    assert payment_summary(woo_order).refundable == Decimal("29.35")  # what the store took

    with django_capture_on_commit_callbacks(execute=True):
        refund = appease(
            order_id=woo_order.pk,
            amount=Decimal("10.00"),
            reason_code="late_delivery",
            note="two days late",
            actor=CS,
            roles=["customer_service"],
        )

    assert refund.status == "succeeded"
    tx = PaymentTransaction.objects.get()
    assert (tx.kind, tx.provider, tx.amount) == ("refund", "platform", Decimal("10.00"))
    call = OutboundCall.objects.get(action="refund")
    assert call.event.type == "order.payment_refunded"
    assert call.payload["platform_pays"] is True
    # the first attempt ran on commit (500); the sweeper's next two: 500, then accepted
    assert send_until_done(call) == ["pending", "sent", None, None]
    posted = fake.calls("POST", REFUNDS)
    assert len(posted) == 3
    body = posted[-1].body
    assert (body["amount"], body["api_refund"]) == ("10.00", True)
    assert body["meta_data"] == [{"key": "_oms_refund", "value": f"oms:{woo_order.number}:{tx.pk}"}]
    call.refresh_from_db()
    assert call.response["refund_id"] == 726
    summary = payment_summary(woo_order)
    assert (summary.refunded, summary.refundable) == (Decimal("10.00"), Decimal("19.35"))


def test_a_retry_after_a_lost_answer_finds_the_refund_at_the_store_and_makes_none(
    woo_order, fake, django_capture_on_commit_callbacks
):
    listing = load("woocommerce/wp_api_v3__order-refunds__list_all_refunds.json")
    fake.answer("GET", REFUNDS, lambda store: listing)
    fake.answer(
        "POST", REFUNDS, corpus("woocommerce/wp_api_v3__order-refunds__create_a_refund.json"), 201
    )
    with django_capture_on_commit_callbacks(execute=False):
        refund_payment(
            order_id=woo_order.pk,
            amount=Decimal("29.35"),
            actor=CS,
            reason="order lost",
            idempotency_key="lost-1",
        )
    tx = PaymentTransaction.objects.get()
    # the store made the refund, but its answer was lost: it lists it with our mark now
    listing[0]["meta_data"] = [{"key": "_oms_refund", "value": f"oms:{woo_order.number}:{tx.pk}"}]
    call = OutboundCall.objects.get(action="refund")

    assert send_until_done(call, times=1) == ["sent"]
    call.refresh_from_db()
    assert call.response["already_there"] is True
    assert fake.calls("POST", REFUNDS) == []
    woo_order.refresh_from_db()
    assert woo_order.payment_status == PaymentStatus.REFUNDED  # all 29.35 of it


def test_no_more_than_the_store_took_is_refunded(woo_order):
    with pytest.raises(DomainError) as refused:
        refund_payment(
            order_id=woo_order.pk,
            amount=Decimal("29.36"),
            actor=CS,
            reason="too much",
            idempotency_key="x-1",
        )
    assert refused.value.code == "refund_exceeds_captured"
    assert not OutboundCall.objects.exists()


def test_a_store_that_takes_no_updates_cannot_refund_what_it_holds(woo_order):
    connection = woo_order.channel.connection
    connection.outbound_enabled = False
    connection.save(update_fields=["outbound_enabled"])
    with pytest.raises(DomainError) as refused:
        refund_payment(
            order_id=woo_order.pk,
            amount=Decimal("1.00"),
            actor=CS,
            reason="nobody would pay it",
            idempotency_key="x-2",
        )
    assert refused.value.code == "refund_exceeds_captured"
    assert payment_summary(woo_order).captured == Decimal("0.00")


def test_a_refund_oms_paid_is_only_recorded_at_the_store(woo_order, fake):
    """An order oms captured itself (its provider pays the refund): `api_refund` stays off."""
    from orders.services.payments import capture_payment

    Order.objects.filter(pk=woo_order.pk).update(payment_status=PaymentStatus.AUTHORIZED)
    capture_payment(
        order_id=woo_order.pk,
        amount=Decimal("29.35"),
        actor=CS,
        idempotency_key="cap-1",
        settles_order=True,
    )
    fake.answer("GET", REFUNDS, [])
    fake.answer(
        "POST", REFUNDS, corpus("woocommerce/wp_api_v3__order-refunds__create_a_refund.json"), 201
    )
    refund_payment(
        order_id=woo_order.pk, amount=Decimal("5.00"), actor=CS, reason="r", idempotency_key="r-1"
    )
    call = OutboundCall.objects.get(action="refund")
    assert call.payload["platform_pays"] is False
    assert send_until_done(call, times=1) == ["sent"]
    [posted] = fake.calls("POST", REFUNDS)
    assert posted.body["api_refund"] is False
    assert OutboundCall.objects.get(action="refund").status == OutboundStatus.SENT


def test_a_returned_line_is_refunded_at_the_store_by_line(
    woo_order, warehouse, fake, django_capture_on_commit_callbacks
):
    """Partial refund by line: one of line 315's two units comes back; the return's refund
    names that line and quantity at the store (`line_items`), paid by the store's gateway."""
    from fulfillment.services.orchestration import orchestrate_order
    from returns.policy import RequestedLine
    from returns.services.receipt import inspect_return, receive_return
    from returns.services.requests import ReturnRequest, request_return
    from tests.returns.support import ensure_default_policy

    ensure_default_policy()
    warehouse.can_accept_returns = True
    warehouse.connector_settings = {"behaviour": "ship", "step_seconds": 0, "deliver": False}
    warehouse.save(update_fields=["can_accept_returns", "connector_settings"])
    fake.answer(
        "POST",
        "/wp-json/wc/v3/orders/727/notes",
        corpus("woocommerce/wp_api_v3__order-notes__create_an_order_note.json"),
        status=201,
    )
    fake.answer(
        "PUT",
        "/wp-json/wc/v3/orders/727",
        corpus("woocommerce/wp_api_v3__orders__update_an_order.json"),
    )
    fake.answer("GET", REFUNDS, [])
    fake.answer(
        "POST", REFUNDS, corpus("woocommerce/wp_api_v3__order-refunds__create_a_refund.json"), 201
    )
    with django_capture_on_commit_callbacks(execute=True):
        orchestrate_order(order_id=woo_order.pk)
    with django_capture_on_commit_callbacks(execute=True):
        rma = request_return(
            order_id=woo_order.pk,
            request=ReturnRequest(
                lines=[RequestedLine(1, 1, "changed_mind", "opened")], authorize=True
            ),
            actor=CS,
        )
        receive_return(return_id=rma.pk, node_id=warehouse.pk, actor=CS)
        inspect_return(return_id=rma.pk, dispositions={1: {"restock": 1}}, actor=CS)

    [event] = Event.objects.filter(stream=woo_order.stream, type="order.payment_refunded")
    assert event.payload["lines"] == [{"line_number": 1, "quantity": 1}]
    call = OutboundCall.objects.get(action="refund")
    assert call.status == OutboundStatus.SENT, call.last_error
    [posted] = fake.calls("POST", REFUNDS)
    assert posted.body["line_items"] == [{"id": 315, "quantity": 1}]
    assert posted.body["api_refund"] is True
    assert posted.body["amount"] == event.payload["amount"] == "3.23"  # 3.00 + 0.225 tax
