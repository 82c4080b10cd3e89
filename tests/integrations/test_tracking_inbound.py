"""Refused carrier tracking updates: kept as failed `tracking` inbound messages, answered 200 (the
carrier will not resend them), retried by us with backoff, dead with a case after the last
attempt, re-processable by a person; applied exactly once when the cause is fixed.

Nothing in today's tracking path refuses a well-formed update for the state of an order, so the
refusal is staged: the order roll-up a delivery triggers raises a DomainError until "the fix"."""

import datetime as dt
import hashlib
import hmac
import json
from contextlib import contextmanager

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from rest_framework.test import APIClient

from fulfillment.models import FulfillmentOrder, Shipment
from fulfillment.services import shipping
from fulfillment.services.orchestration import orchestrate_order
from fulfillment.services.shipping import (
    Package,
    TrackingInput,
    apply_tracking_updates,
    ship_fulfillment,
    tracking_from_payload,
    tracking_input,
    tracking_payload,
)
from integrations.carriers import TRACKING_FORMATS, TrackingEventData, TrackingUpdate
from integrations.inbound import reprocess_message, retry_due_messages
from integrations.models import InboundMessage, InboundStatus
from integrations.services import fingerprint
from oms.core.actors import Actor
from oms.core.errors import DomainError
from oms.events.models import Event
from ops.models import ExceptionCase
from tests.admin.conftest import client_for, messages_of
from tests.corpus import needs
from tests.factories.inventory import NodeFactory, ProductFactory, stocked
from tests.factories.orders import captured_order
from tests.factories.users import staff_user
from tests.integrations.conftest import CORPUS, PAYLOAD, SECRET

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("easypost_secret")]

CARRIER = Actor.system("test carrier")


@pytest.fixture
def ship(django_capture_on_commit_callbacks):
    """Ship one order's fulfillment under a tracking number; returns the fulfillment order."""
    dc = NodeFactory(code="dc-east")
    tee = ProductFactory(sku="TEE")
    stocked(dc, tee, on_hand=10)

    def _ship(tracking_number: str) -> FulfillmentOrder:
        order = captured_order(skus=["TEE"], external_id=f"EXT-{tracking_number}")
        with django_capture_on_commit_callbacks(execute=True):
            orchestrate_order(order_id=order.pk)
        fo = FulfillmentOrder.objects.get(order=order)
        ship_fulfillment(
            fulfillment_id=fo.pk,
            actor=Actor.system("test"),
            packages=[Package(carrier="UPS", tracking_number=tracking_number)],
        )
        return fo

    return _ship


@pytest.fixture
def shipped(ship):
    """Shipped under the tracking number of the corpus EasyPost delivery."""
    if not PAYLOAD.exists():
        pytest.skip(f"corpus not found at {CORPUS}")
    return ship("EZ4000000004")


@contextmanager
def rollup_refused(monkeypatch):
    """Until the block ends ("the fix"), delivering an order is refused."""

    def refuse(order):
        raise DomainError(code="order_rollup_refused", detail="The order cannot move on now.")

    with monkeypatch.context() as patch:
        patch.setattr(shipping, "rollup_order", refuse)
        yield


def post(body: bytes):
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return APIClient().post(
        "/api/v1/webhooks/carriers/easypost/",
        data=body,
        content_type="application/json",
        HTTP_X_HMAC_SIGNATURE=f"hmac-sha256-hex={signature}",
    )


def make_due(message: InboundMessage) -> None:
    InboundMessage.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
    )


def effects(fo: FulfillmentOrder) -> dict[str, int]:
    types = list(Event.objects.filter(stream=fo.order.stream).values_list("type", flat=True))
    return {t: types.count(t) for t in ("shipment.tracking_updated", "fulfillment.delivered")}


def test_a_refused_webhook_update_is_answered_200_kept_and_retried_until_it_applies_once(
    shipped, monkeypatch
):
    body = PAYLOAD.read_bytes()
    before = timezone.now()

    # when: the carrier reports the delivery while the order cannot move on
    with rollup_refused(monkeypatch):
        response = post(body)

        # then: acknowledged (the carrier will not resend it), kept, and due for our retry
        assert response.status_code == 200
        assert response.json() == {
            "received": 1,
            "applied": 0,
            "unknown_tracking_numbers": 0,
            "refused": 1,
        }
        message = InboundMessage.objects.get(kind="tracking")
        assert (message.source, message.subject, message.status, message.attempts) == (
            "carrier:easypost",
            shipped.number,
            InboundStatus.FAILED,
            1,
        )
        assert message.error_code == "order_rollup_refused"
        wait = message.next_attempt_at - before
        assert dt.timedelta(seconds=47) <= wait <= dt.timedelta(seconds=73)  # 60 s ± 20 %
        shipment = Shipment.objects.get()
        assert (shipment.status, shipment.tracking.count()) == ("in_transit", 0)
        assert effects(shipped) == {"shipment.tracking_updated": 0, "fulfillment.delivered": 0}

        # and: a due retry that is refused again waits longer
        make_due(message)
        assert retry_due_messages()["failed"] == 1
        message.refresh_from_db()
        assert (message.status, message.attempts) == (InboundStatus.FAILED, 2)

    # when: fixed, and the next attempt is due
    make_due(message)
    counts = retry_due_messages()

    # then: applied once
    message.refresh_from_db()
    shipped.refresh_from_db()
    assert counts == {"due": 1, "processed": 1, "failed": 0, "dead": 0}
    assert (message.status, message.attempts, message.error_code) == ("processed", 3, "")
    assert message.next_attempt_at is None
    assert Shipment.objects.get().status == "delivered"
    assert shipped.status == "delivered"
    assert effects(shipped) == {"shipment.tracking_updated": 1, "fulfillment.delivered": 1}

    # and: the carrier sending it again, or another retry run, has no second effect
    assert post(body).status_code == 200
    make_due(message)
    assert retry_due_messages()["due"] == 0
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("processed", 3)
    assert effects(shipped) == {"shipment.tracking_updated": 1, "fulfillment.delivered": 1}


def test_after_the_last_attempt_it_is_dead_with_a_case_and_a_person_reprocesses_it_in_the_admin(
    shipped, monkeypatch, settings
):
    settings.OMS_INBOUND_MAX_ATTEMPTS = 2
    with rollup_refused(monkeypatch):
        post(PAYLOAD.read_bytes())
        message = InboundMessage.objects.get(kind="tracking")
        make_due(message)
        assert retry_due_messages()["dead"] == 1
        message.refresh_from_db()
        assert (message.status, message.attempts, message.next_attempt_at) == ("dead", 2, None)
        case = ExceptionCase.objects.get(subject_type="message", subject_id=message.pk)
        assert (case.kind, case.order_id) == ("integration_failed", shipped.order_id)

    # when: after the fix, a person re-processes it from the message page
    ops = client_for(staff_user("oscar", "ops_admin"))
    done = ops.post(f"/admin/integrations/inboundmessage/{message.pk}/reprocess_detail/")

    # then
    message.refresh_from_db()
    shipped.refresh_from_db()
    assert messages_of(done) == [("success", "1 message re-processed.")]
    assert (message.status, message.attempts) == ("processed", 3)
    assert shipped.status == "delivered"
    assert effects(shipped) == {"shipment.tracking_updated": 1, "fulfillment.delivered": 1}
    with pytest.raises(DomainError) as again:
        reprocess_message(message_id=message.pk, actor=Actor.system("test"))
    assert again.value.code == "message_already_processed"


def update(number: str, status: str, at: dt.datetime, message_id: str) -> TrackingUpdate:
    return TrackingUpdate(
        carrier="UPS",
        tracking_number=number,
        status=status,
        status_detail=f"{status} scan",
        occurred_at=at,
        location="Columbus, OH",
        events=(TrackingEventData(occurred_at=at, status=status, description=f"{status} scan"),),
        raw_status=status,
        provider="test",
        message_id=message_id,
    )


def test_a_refused_update_does_not_hold_back_the_others_of_the_same_message(ship, monkeypatch):
    first, second = ship("1ZFIRST"), ship("1ZSECOND")
    at = dt.datetime(2026, 5, 4, 10, 0, tzinfo=dt.UTC)

    with rollup_refused(monkeypatch):
        result = apply_tracking_updates(
            [update("1ZFIRST", "delivered", at, "e1"), update("1ZSECOND", "in_transit", at, "e2")],
            source="carrier:test",
            message_id="body-sha",
            actor=CARRIER,
        )

    refused = InboundMessage.objects.get(message_id="e1:1ZFIRST")
    applied = InboundMessage.objects.get(message_id="e2:1ZSECOND")
    assert (result.received, result.applied, result.refused) == (2, 1, 1)
    assert (refused.status, refused.subject) == ("failed", first.number)
    assert (applied.status, applied.subject) == ("processed", second.number)
    assert Shipment.objects.get(tracking_number="1ZSECOND").tracking.count() == 1
    assert Shipment.objects.get(tracking_number="1ZFIRST").status == "in_transit"

    # when: a person re-processes the refused one after the fix
    reprocess_message(message_id=refused.pk, actor=Actor.system("olga"))

    refused.refresh_from_db()
    first.refresh_from_db()
    assert (refused.status, first.status) == ("processed", "delivered")
    assert effects(first) == {"shipment.tracking_updated": 1, "fulfillment.delivered": 1}


def test_an_id_reused_with_other_content_is_still_a_409_and_not_kept(shipped):
    body = PAYLOAD.read_bytes()
    assert post(body).status_code == 200
    other = json.loads(body)
    other["result"]["status_detail"] = "left at the back door"  # same event id, other content

    response = post(json.dumps(other).encode())

    assert response.status_code == 409
    assert response.json()["code"] == "message_id_reused"
    assert list(InboundMessage.objects.values_list("status", flat=True)) == ["processed"]


# --- payload ↔ TrackingInput ---------------------------------------------------------------


def stored(payload: dict) -> dict:
    """The payload as the JSON column gives it back."""
    return json.loads(json.dumps(payload, cls=DjangoJSONEncoder))


def test_a_tracking_input_round_trips_through_its_logged_payload():
    at = dt.datetime(2026, 5, 4, 10, 15, 30, 123456, tzinfo=dt.timezone(dt.timedelta(hours=-4)))
    update_ = TrackingInput(
        carrier="UPS",
        tracking_number="1Z999",
        status="out_for_delivery",
        occurred_at=at,
        description="Out for delivery",
        location="Columbus, OH 43215, US",
        events=(
            (at - dt.timedelta(days=1), "in_transit", "Departed facility", "Louisville, KY"),
            (at, "out_for_delivery", "Out for delivery", ""),
        ),
    )

    payload = stored(tracking_payload(update_))
    back = tracking_from_payload(payload)

    assert back == update_
    assert back.occurred_at.utcoffset() == dt.timedelta(hours=-4)
    assert tracking_payload(back) == payload
    assert fingerprint(tracking_payload(back)) == fingerprint(tracking_payload(update_))


def test_an_update_without_scans_keeps_its_description_and_location():
    update_ = TrackingInput(
        carrier="fedex",
        tracking_number="7777",
        status="exception",
        occurred_at=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        description="Address correction needed",
        location="Memphis, TN",
    )

    assert tracking_from_payload(stored(tracking_payload(update_))) == update_


PARSERS = {
    "easypost__": TRACKING_FORMATS["easypost"].parse,
    "shippo__": TRACKING_FORMATS["shippo"].parse,
    "aftership__": TRACKING_FORMATS["aftership"].parse,
    "ups__track_alert": TRACKING_FORMATS["ups_track_alert"].parse,
}


@needs("carriers")
def test_every_corpus_tracking_update_round_trips_through_its_logged_payload():
    checked = 0
    for path in sorted(CORPUS.glob("*.json")):
        parse = next((p for prefix, p in PARSERS.items() if path.name.startswith(prefix)), None)
        if parse is None:
            continue
        try:
            updates = parse(path.read_bytes())
        except Exception:  # noqa: BLE001, S112 - not a tracking payload (test_carriers covers)
            continue
        for parsed in updates:
            update_ = tracking_input(parsed)
            payload = stored(tracking_payload(update_))
            assert tracking_from_payload(payload) == update_, path.name
            assert tracking_payload(tracking_from_payload(payload)) == payload, path.name
            checked += 1
    assert checked >= 10
