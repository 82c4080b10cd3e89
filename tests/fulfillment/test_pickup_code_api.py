"""Pickup-code attempt limit through the node API (docs/security.md): wrong codes are
`400 pickup_code_mismatch` with the tries left, then `409 pickup_locked`, even for the right
code, until a supervisor unlocks the hand-over."""

import pytest
from django.test import override_settings

from fulfillment.services.feedback import unlock_pickup
from integrations.models import InboundMessage
from oms.core.actors import Actor
from oms.events.models import Event
from ops.models import ExceptionCase
from tests.fulfillment.test_node_message_ids import (  # noqa: F401 - fixtures
    make_fo,
    nyc_api,
    status_of,
    url,
)

pytestmark = pytest.mark.django_db


@override_settings(OMS_PICKUP_CODE_MAX_ATTEMPTS=2)
def test_node_api_hand_over_locks_after_n_wrong_codes(make_fo, nyc_api):  # noqa: F811
    fo = make_fo("ready_for_pickup", pickup=True)
    wrong = "00000000" if fo.pickup_code != "00000000" else "11111111"

    def hand_over(message_id, code):
        body = {"message_id": message_id, "pickup_code": code}
        return nyc_api.post(url(fo, "hand-over"), body, format="json")

    first = hand_over("m1", wrong)
    assert first.status_code == 400
    assert first.json()["code"] == "pickup_code_mismatch"
    assert first.json()["extra"] == {"attempts_left": 1}

    second = hand_over("m2", wrong)
    assert second.status_code == 409
    assert second.json()["code"] == "pickup_locked"

    right = hand_over("m3", fo.pickup_code)
    assert right.status_code == 409
    assert right.json()["code"] == "pickup_locked"
    assert status_of(fo) == "ready_for_pickup"
    # refused tries are logged as failed messages by the node API, never as processed
    logged = InboundMessage.objects.filter(kind="fulfillment.hand_over")
    assert set(logged.values_list("status", flat=True)) == {"failed"}
    failed = Event.objects.filter(stream=fo.order.stream, type="fulfillment.pickup_code_failed")
    assert [e.payload["attempts"] for e in failed.order_by("seq")] == [1, 2]
    assert ExceptionCase.objects.filter(kind="pickup_locked", subject_id=fo.pk).exists()

    unlock_pickup(fulfillment_id=fo.pk, actor=Actor.system("supervisor"), note="ID checked")

    done = hand_over("m4", fo.pickup_code)
    assert done.status_code == 200
    assert status_of(fo) == "picked_up"


@override_settings(OMS_PICKUP_CODE_MAX_ATTEMPTS=2)
def test_the_same_wrong_code_message_sent_again_is_counted_once(make_fo, nyc_api):  # noqa: F811
    """A retry of one message (its answer was lost) is the same try, not a second one: it
    neither uses up the customer's tries nor locks the hand-over."""
    fo = make_fo("ready_for_pickup", pickup=True)
    wrong = "00000000" if fo.pickup_code != "00000000" else "11111111"
    body = {"message_id": "retry-1", "pickup_code": wrong}

    first = nyc_api.post(url(fo, "hand-over"), body, format="json")
    again = nyc_api.post(url(fo, "hand-over"), body, format="json")

    assert (first.status_code, again.status_code) == (400, 400)
    assert again.json()["extra"] == {"attempts_left": 1}
    failed = Event.objects.filter(stream=fo.order.stream, type="fulfillment.pickup_code_failed")
    assert [e.payload["attempts"] for e in failed] == [1]
    fo.refresh_from_db()
    assert (fo.pickup_failed_attempts, fo.pickup_locked_at) == (1, None)
