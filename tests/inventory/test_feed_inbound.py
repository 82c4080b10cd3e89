"""Refused inventory feeds in the inbound message log: kept as failed `inventory.snapshot` /
`inventory.adjustment` messages (answered, so never retried automatically), visible and
re-processable in Integrations > Inbound messages after a fix, settled when the node sends the
message again (the same row, then processed: the inbound message log is the feed's only log), and
a duplicate still has no effect."""

import json
from datetime import UTC, datetime, timedelta, timezone
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.core.serializers.json import DjangoJSONEncoder

from integrations.inbound import reprocess_message, retry_due_messages
from integrations.models import InboundMessage
from inventory.models import InventoryMovement
from inventory.services.feeds import apply_snapshot
from inventory.services.feeds_inbound import (
    adjustment_from_payload,
    adjustment_payload,
    snapshot_from_payload,
    snapshot_payload,
)
from oms.core.actors import Actor
from oms.core.errors import DomainError
from oms.events.models import Event
from orders.models import ApiClient
from tests.admin.conftest import client_for, messages_of
from tests.factories.inventory import NodeFactory, ProductFactory, on_hand
from tests.factories.users import staff_user

pytestmark = pytest.mark.django_db


def feed_source() -> str:
    """Feeds are deduplicated per node and client: the source names dc-east's key."""
    return f"api:dc-east:{ApiClient.objects.get(name='wms-east').prefix}"


SNAPSHOTS = "/api/v1/inventory/snapshots/"
ADJUSTMENTS = "/api/v1/inventory/adjustments/"
PERSON = Actor.system("olga")


def adjustment(message_id: str, *lines: tuple[str, int]) -> dict:
    return {
        "node": "dc-east",
        "message_id": message_id,
        "lines": [{"sku": sku, "delta": delta, "reason": "count"} for sku, delta in lines],
    }


def snapshot(message_id: str, counts: dict[str, int], as_of: str = "2026-11-20T06:00:00Z"):
    return {
        "node": "dc-east",
        "message_id": message_id,
        "as_of": as_of,
        "counts": [{"sku": sku, "on_hand": n} for sku, n in counts.items()],
    }


def adjustment_effects() -> tuple[int, int]:
    """Movements and events of the feed adj-1."""
    feed = InboundMessage.objects.filter(message_id="adj-1", status="processed").first()
    movements = InventoryMovement.objects.filter(
        reason="adjustment", reference_type="feed", reference_id=str(feed.pk if feed else 0)
    )
    events = Event.objects.filter(type="inventory.adjusted", payload__message_id="adj-1")
    return movements.count(), events.count()


def test_a_refused_adjustment_is_kept_and_a_person_reprocesses_it_in_the_admin_after_the_fix(
    feed_api, levels
):
    # when: the node removes more than the node has
    refused = feed_api.post(ADJUSTMENTS, adjustment("adj-1", ("TEE-1", -12)), format="json")

    # then: answered 409 and kept as failed, with no automatic retry (the node was answered)
    assert refused.status_code == 409
    assert refused.json()["code"] == "adjustment_refused"
    message = InboundMessage.objects.get()
    assert (message.kind, message.source, message.message_id, message.subject) == (
        "inventory.adjustment",
        feed_source(),
        "adj-1",
        "dc-east",
    )
    assert (message.status, message.attempts, message.error_code) == (
        "failed",
        1,
        "adjustment_refused",
    )
    assert message.next_attempt_at is None
    assert message.payload == {
        "node": "dc-east",
        "lines": [{"sku": "TEE-1", "delta": -12, "reason": "count"}],
    }
    assert adjustment_effects() == (0, 0)
    assert retry_due_messages()["due"] == 0

    # and: the ops console lists it; re-processing before the fix is refused and recorded
    ops = client_for(staff_user("oscar", "ops_admin"))
    listing = ops.get("/admin/integrations/inboundmessage/?kind=inventory.adjustment")
    action = f"/admin/integrations/inboundmessage/{message.pk}/reprocess_detail/"
    too_early = ops.post(action, follow=True)
    message.refresh_from_db()
    assert listing.status_code == 200
    assert "adj-1" in listing.content.decode()
    assert "would make on-hand stock negative" in too_early.content.decode()
    assert (message.status, message.attempts) == ("failed", 2)

    # when: the fix (a count finds more stock), then re-process
    assert feed_api.post(SNAPSHOTS, snapshot("count-1", {"TEE-1": 20, "MUG-2": 4}), format="json")
    done = ops.post(action)

    # then: applied once through the feed service, under the message's own id
    message.refresh_from_db()
    assert messages_of(done) == [("success", "1 message re-processed.")]
    assert (message.status, message.attempts, message.error_code) == ("processed", 3, "")
    assert message.result["status"] == "applied"
    assert InboundMessage.objects.filter(message_id="adj-1").count() == 1  # one row, one log
    assert on_hand(levels) == {"TEE": 8, "MUG": 4}
    assert adjustment_effects() == (1, 1)

    # and: the node sending it again is a duplicate, with no effect
    again = feed_api.post(ADJUSTMENTS, adjustment("adj-1", ("TEE-1", -12)), format="json")
    assert again.status_code == 200
    assert (again.json()["status"], again.json()["duplicate"]) == ("duplicate", True)
    assert on_hand(levels) == {"TEE": 8, "MUG": 4}
    assert adjustment_effects() == (1, 1)
    with pytest.raises(DomainError) as processed:
        reprocess_message(message_id=message.pk, actor=PERSON)
    assert processed.value.code == "message_already_processed"


def test_a_refused_snapshot_sent_again_after_the_fix_settles_its_kept_message(feed_api, levels):
    body = snapshot("count-7", {"TEE-1": 12, "NEW-9": 3})
    refused = feed_api.post(SNAPSHOTS, body, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "unknown_sku"
    message = InboundMessage.objects.get(kind="inventory.snapshot")
    assert (message.status, message.error_code) == ("failed", "validation_failed")

    # when: the product is added to the catalogue and the node sends the message again
    ProductFactory(sku="NEW-9")
    applied = feed_api.post(SNAPSHOTS, body, format="json")

    # then: applied, and the kept message is processed with it (one attempt more)
    message.refresh_from_db()
    assert applied.status_code == 200
    assert applied.json()["status"] == "applied"
    assert (message.status, message.attempts, message.error_code) == ("processed", 2, "")
    assert message.result["status"] == "applied"
    assert on_hand(levels) == {"TEE": 12, "MUG": 0}

    # and: a third send is a duplicate that changes nothing, there or here
    movements = InventoryMovement.objects.count()
    duplicate = feed_api.post(SNAPSHOTS, body, format="json")
    message.refresh_from_db()
    assert duplicate.json()["duplicate"] is True
    assert InventoryMovement.objects.count() == movements
    assert (message.status, message.attempts) == ("processed", 2)


def test_a_corrected_resend_refused_again_replaces_the_kept_content(feed_api, levels):
    # given: refused, then corrected under the same id and refused for another reason
    feed_api.post(ADJUSTMENTS, adjustment("adj-2", ("NOPE-1", 1)), format="json")
    corrected = feed_api.post(ADJUSTMENTS, adjustment("adj-2", ("TEE-1", -15)), format="json")
    message = InboundMessage.objects.get()
    assert corrected.status_code == 409
    assert (message.status, message.attempts, message.error_code) == (
        "failed",
        2,
        "adjustment_refused",
    )
    assert message.payload["lines"] == [{"sku": "TEE-1", "delta": -15, "reason": "count"}]

    # when: the cause is fixed and a person re-processes it
    feed_api.post(SNAPSHOTS, snapshot("count-2", {"TEE-1": 30, "MUG-2": 4}), format="json")
    reprocess_message(message_id=message.pk, actor=PERSON)

    # then: what the node sent last is applied
    assert on_hand(levels) == {"TEE": 15, "MUG": 4}
    again = feed_api.post(ADJUSTMENTS, adjustment("adj-2", ("TEE-1", -15)), format="json")
    assert again.json()["duplicate"] is True


def test_an_id_reused_with_other_content_is_refused_and_leaves_the_applied_message_alone(
    feed_api, levels
):
    assert feed_api.post(ADJUSTMENTS, adjustment("adj-3", ("TEE-1", 1)), format="json")

    reused = feed_api.post(ADJUSTMENTS, adjustment("adj-3", ("TEE-1", 2)), format="json")

    assert reused.status_code == 409
    assert reused.json()["code"] == "message_id_reused"
    message = InboundMessage.objects.get()  # the applied one, untouched by the refusal
    assert (message.status, message.attempts, message.error_code) == ("processed", 1, "")
    assert message.payload["lines"] == [{"sku": "TEE-1", "delta": 1, "reason": "count"}]
    assert on_hand(levels) == {"TEE": 11, "MUG": 4}


def test_a_refused_feed_from_any_caller_is_kept_and_reprocessable(levels):
    """The service keeps it, so the import command's files are covered as well."""
    as_of = datetime(2026, 11, 20, 6, tzinfo=UTC)
    with pytest.raises(DomainError):
        apply_snapshot(
            node_code="dc-north",
            as_of=as_of,
            counts={"TEE-1": 5},
            source="wms",
            message_id="north-1",
            actor=PERSON,
        )
    message = InboundMessage.objects.get()
    assert (message.kind, message.subject, message.status) == (
        "inventory.snapshot",
        "dc-north",
        "failed",
    )

    NodeFactory(code="dc-north")  # the fix: the node is set up
    reprocess_message(message_id=message.pk, actor=PERSON)

    message.refresh_from_db()
    assert InboundMessage.objects.count() == 1
    assert (message.status, message.subject, message.result["node"]) == (
        "processed",
        "dc-north",
        "dc-north",
    )
    assert message.payload["as_of"] == as_of.isoformat()
    assert Event.objects.filter(type="inventory.snapshot_applied").count() == 1


def test_a_refused_import_file_is_kept_under_its_file_source(tmp_path, levels):
    path = tmp_path / "adjust.csv"
    path.write_text("sku,delta,reason\nTEE-1,-50,shrink\n")

    with pytest.raises(CommandError):
        call_command(
            "import_inventory",
            str(path),
            "--node",
            "dc-east",
            "--kind",
            "adjustment",
            "--message-id",
            "file-1",
            stdout=StringIO(),
            stderr=StringIO(),
        )

    message = InboundMessage.objects.get()
    assert (message.source, message.message_id, message.kind, message.error_code) == (
        "file:dc-east",
        "file-1",
        "inventory.adjustment",
        "adjustment_refused",
    )


# --- payload round trips -------------------------------------------------------------------


def stored(payload: dict) -> dict:
    return json.loads(json.dumps(payload, cls=DjangoJSONEncoder))


def test_a_snapshot_round_trips_through_its_logged_payload():
    as_of = datetime(2026, 11, 20, 6, 30, 15, 250000, tzinfo=timezone(timedelta(hours=-5)))
    content = {"node_code": "dc-east", "as_of": as_of, "counts": {"tee-1": 12, "MUG-2": 0}}

    payload = stored(snapshot_payload(**content))

    assert snapshot_from_payload(payload) == content
    assert list(snapshot_from_payload(payload)["counts"]) == ["tee-1", "MUG-2"]  # order kept
    assert snapshot_payload(**snapshot_from_payload(payload)) == payload


def test_an_adjustment_round_trips_through_its_logged_payload():
    content = {"node_code": "dc-east", "lines": [("TEE-1", -2, "damaged"), ("TEE-1", 5, "")]}

    payload = stored(adjustment_payload(**content))

    assert adjustment_from_payload(payload) == content
    assert adjustment_payload(**adjustment_from_payload(payload)) == payload
