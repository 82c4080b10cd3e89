"""erase_customer (docs/security.md, "Personal data"): one customer's personal data leaves the
order, every reader of its events (API, admin, webhook replays), the inbound message log and
kept webhook responses; money and stock stay; a second run and a dry run change nothing."""

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.forms.models import model_to_dict

from fulfillment.models import FulfillmentOrder, Shipment
from fulfillment.services.feedback import FeedbackMessage, accept_fulfillment, pack_fulfillment
from fulfillment.services.orchestration import orchestrate_order
from fulfillment.services.shipping import Package, deliver_fulfillment, ship_fulfillment
from integrations.models import InboundMessage, WebhookAttempt, WebhookDelivery, WebhookSubscription
from integrations.services import finish_message, receive_message
from inventory.models import InventoryMovement, Reservation, StockLevel
from oms.core.actors import Actor
from oms.events.models import Event, Redaction
from orders.models import Order, OrderStatus
from orders.services.holds import place_hold, release_hold
from tests.conftest import bearer_client
from tests.factories.inventory import NodeFactory, ProductFactory, stocked
from tests.factories.orders import captured_order, issue_api_key
from tests.factories.users import superuser
from webhooks.relay import relay_events
from webhooks.replay import replay_order_stream
from webhooks.sending import event_body

pytestmark = pytest.mark.django_db

NAME, EMAIL, PHONE = "Ada Lovelace", "ada.lovelace@example.com", "+1 614 555 0199"
STREET, CITY, POSTAL = "12 Byron Street", "Marylebone", "43215"
PERSONAL = (NAME, EMAIL, PHONE, STREET, CITY, POSTAL, "Flat 3", "Billing Lane 9")
SYSTEM = Actor.system("test")


def address():
    from orders.services.capture import AddressInput

    return AddressInput(
        name=NAME, line1=STREET, line2="Flat 3", city=CITY, region="OH", postal_code=POSTAL,
        country="US",
    )  # fmt: skip


@pytest.fixture
def delivered(web_channel, django_capture_on_commit_callbacks):
    """A delivered order of Ada's: events (one quoting her e-mail), node messages, a carrier
    message carrying her address, webhook deliveries and a kept response echoing her e-mail."""
    node = NodeFactory(code="dc-east", name="DC East")
    stocked(node, ProductFactory(sku="TEE"), on_hand=5)
    order = captured_order(
        channel=web_channel,
        skus=["TEE"],
        quantity=2,
        customer_name=NAME,
        customer_email=EMAIL,
        customer_phone=PHONE,
        shipping_address=address(),
        billing_address={
            "name": NAME,
            "line1": "Billing Lane 9",
            "city": CITY,
            "region": "OH",
            "postal_code": POSTAL,
            "country": "US",
        },  # fmt: skip
        notes=f"call {PHONE} before delivery",
    )
    hold = place_hold(
        order_id=order.pk, kind="fraud", reason=f"e-mail {EMAIL} seen on a chargeback",
        actor=SYSTEM,
    )  # fmt: skip
    release_hold(order_id=order.pk, hold_id=hold.pk, note="verified by phone", actor=SYSTEM)
    with django_capture_on_commit_callbacks(execute=True):
        orchestrate_order(order_id=order.pk)
    fo = FulfillmentOrder.objects.get(order=order)
    node_msg = FeedbackMessage(source="node-api:x", message_id="a1", payload={"note": NAME})
    accept_fulfillment(fulfillment_id=fo.pk, actor=SYSTEM, message=node_msg)
    pack_fulfillment(fulfillment_id=fo.pk, picked={}, short_reason="", actor=SYSTEM)
    ship_fulfillment(
        fulfillment_id=fo.pk,
        packages=[Package(carrier="ups", service="ground", tracking_number="1Z999")],
        actor=SYSTEM,
    )
    deliver_fulfillment(fulfillment_id=fo.pk, actor=SYSTEM)
    fo.shipments.update(label_pdf=f"%PDF ship to {NAME}, {STREET}".encode())
    with transaction.atomic():
        received = receive_message(
            source="carrier:ups",
            message_id="t1",
            kind="tracking",
            subject="1Z999",
            payload={"recipient": {"name": NAME, "street": STREET, "city": CITY}, "to": EMAIL},
        )
        finish_message(received.message, result={"signed_by": NAME})
    sub = WebhookSubscription.objects.create(
        name="crm", url="https://crm.example/h", event_types=["*"]
    )
    relay_events()
    delivery = WebhookDelivery.objects.filter(subscription=sub).first()
    WebhookAttempt.objects.create(
        delivery=delivery, at=delivery.created_at, status_code=200,
        response_body=json.dumps({"ok": True, "customer": EMAIL}),
    )  # fmt: skip
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    return order


def money_and_stock(order):
    order = Order.objects.get(pk=order.pk)
    return {
        "order": {
            f: getattr(order, f)
            for f in ("subtotal", "shipping_total", "discount_total", "tax_total", "grand_total")
        }
        | {"payment_reference": order.payment_reference, "currency": order.currency},
        "lines": [
            model_to_dict(line, exclude=["updated_at"]) for line in order.lines.order_by("id")
        ],
        "stock": list(StockLevel.objects.order_by("id").values()),
        "ledger": list(InventoryMovement.objects.order_by("id").values()),
        "reservations": list(Reservation.objects.order_by("id").values()),
    }


def everything_readers_show(order, web_api, admin):
    """The API's order and events, the admin order page and event pages, the bodies a replay
    sends, the stored messages and webhook responses, as one text."""
    texts = [
        web_api.get(f"/api/v1/orders/{order.number}/").content.decode(),
        web_api.get(f"/api/v1/orders/{order.number}/events/").content.decode(),
        admin.get(f"/admin/orders/order/{order.pk}/change/").content.decode(),
    ]
    for event in Event.objects.filter(stream=order.stream):
        texts.append(admin.get(f"/admin/events/event/{event.pk}/change/").content.decode())
    sub = WebhookSubscription.objects.get()
    replay_order_stream(sub.pk, order.number)
    for delivery in WebhookDelivery.objects.filter(reason="replay").select_related("event"):
        texts.append(event_body(delivery.event).decode())
    for message in InboundMessage.objects.all():
        texts.append(json.dumps([message.payload, message.result, message.error]))
    texts += [a.response_body for a in WebhookAttempt.objects.all()]
    return "\n".join(texts)


def leaked(text):
    lowered = text.lower()
    return [value for value in PERSONAL if value.lower() in lowered]


@pytest.fixture
def web_api(web_channel):
    return bearer_client(issue_api_key(web_channel, "storefront").key)


@pytest.fixture
def admin(client):
    client.force_login(superuser("dpo"))
    return client


def erase(*args):
    out = StringIO()
    call_command("erase_customer", *args, stdout=out)
    return out.getvalue()


def test_before_erasure_the_readers_do_show_the_customer(delivered, web_api, admin):
    # the check below is meaningful: each reader did show personal data
    assert set(leaked(everything_readers_show(delivered, web_api, admin))) == set(PERSONAL)


def test_erase_customer_leaves_no_personal_data_in_any_reader(delivered, web_api, admin):
    before = money_and_stock(delivered)
    history = list(Event.objects.filter(stream=delivered.stream).order_by("seq").values())

    output = erase("--email", EMAIL.upper(), "--yes", "--reason", "ticket 42")

    assert f"{delivered.number}: erased fields customer_name" in output
    assert "2 inbound message(s); 1 webhook response(s); 1 exception case(s)" in output
    assert "1 shipping label(s)" in output
    [shipment] = Shipment.objects.filter(fulfillment__order=delivered)
    assert (shipment.label_pdf, shipment.tracking_number) == (None, "1Z999")
    assert leaked(everything_readers_show(delivered, web_api, admin)) == []
    order = Order.objects.get(pk=delivered.pk)
    assert (order.customer_name, order.customer_email, order.customer_phone) == ("[erased]", "", "")
    assert (order.ship_line1, order.ship_city, order.ship_region) == ("[erased]", "", "OH")
    assert (order.ship_postal_code, order.ship_country) == ("432", "US")
    assert order.billing_address == {"country": "US", "region": "OH", "postal_code": "432"}
    assert order.holds.get().reason == "e-mail [erased] seen on a chargeback"
    # money and stock untouched
    assert money_and_stock(delivered) == before
    assert before["order"]["grand_total"] > Decimal("0")
    # history is not edited: a redaction event is appended, earlier events are as written
    events = list(Event.objects.filter(stream=delivered.stream).order_by("seq").values())
    assert events[: len(history)] == history
    assert [e["type"] for e in events[len(history) :]] == ["order.personal_data_erased"]
    assert events[-1]["payload"]["reason"] == "ticket 42"
    assert EMAIL not in json.dumps(events[-1]["payload"])
    # the redaction keeps digests, not the values
    assert leaked(json.dumps(Redaction.objects.get(stream=delivered.stream).values)) == []


def test_running_it_twice_changes_nothing_the_second_time(delivered):
    erase("--email", EMAIL, "--yes")
    order = Order.objects.get(pk=delivered.pk)
    events = Event.objects.count()
    messages = list(InboundMessage.objects.order_by("id").values())
    redaction = Redaction.objects.get().values

    by_email = erase("--email", EMAIL, "--yes")
    by_number = erase("--order", delivered.number, "--yes")

    assert by_email == "No orders match: nothing to erase.\n"
    assert f"{delivered.number}: nothing left to erase" in by_number
    assert Event.objects.count() == events
    assert Order.objects.get(pk=delivered.pk).updated_at == order.updated_at
    assert list(InboundMessage.objects.order_by("id").values()) == messages
    assert Redaction.objects.get().values == redaction


def test_dry_run_reports_and_changes_nothing(delivered):
    order = model_to_dict(Order.objects.get(pk=delivered.pk))
    events = Event.objects.count()
    messages = list(InboundMessage.objects.order_by("id").values())
    attempts = list(WebhookAttempt.objects.values())

    output = erase("--order", delivered.number, "--dry-run")

    assert f"{delivered.number}: would erase fields customer_name" in output
    assert "Dry run: nothing was changed" in output
    assert model_to_dict(Order.objects.get(pk=delivered.pk)) == order
    assert Event.objects.count() == events
    assert list(InboundMessage.objects.order_by("id").values()) == messages
    assert list(WebhookAttempt.objects.values()) == attempts
    assert not Redaction.objects.exists()


def test_it_needs_a_confirmation_and_refuses_an_open_order(web_channel):
    node = NodeFactory(code="dc-east")
    stocked(node, ProductFactory(sku="TEE"), on_hand=5)
    order = captured_order(channel=web_channel, skus=["TEE"], customer_email=EMAIL)

    with pytest.raises(CommandError, match="--dry-run --yes"):
        erase("--email", EMAIL)
    with pytest.raises(CommandError, match="refused"):
        erase("--email", EMAIL, "--yes")

    assert Order.objects.get(pk=order.pk).customer_email == EMAIL
    assert not Redaction.objects.exists()
