"""Pickup codes have an attempt limit per fulfillment order (docs/security.md): after
OMS_PICKUP_CODE_MAX_ATTEMPTS wrong codes the hand-over is locked, even for the right code, an
exception case opens, and only a store lead (or ops from the case) unlocks it."""

import pytest
from django.test import override_settings

from fulfillment.services.feedback import (
    PICKUP_CODE_DIGITS,
    PickupLocked,
    WrongPickupCode,
    hand_over,
    mark_ready_for_pickup,
    pack_fulfillment,
)
from oms.core.actors import Actor
from ops.models import CaseStatus, ExceptionCase
from ops.services.remedies import unlock_pickup_case
from stores.models import StoreRole
from tests.factories.users import superuser
from tests.stores import scenario
from tests.stores.conftest import client_for
from tests.stores.test_views import events, pickup_a, post, status_of, url  # noqa: F401

pytestmark = pytest.mark.django_db

S_READY, S_PICKED_UP = "ready_for_pickup", "picked_up"
SYSTEM = Actor.system("test")


@pytest.fixture
def ready_a(pickup_a):  # noqa: F811 - the fixture imported above
    pack_fulfillment(fulfillment_id=pickup_a.pk, actor=SYSTEM)
    mark_ready_for_pickup(fulfillment_id=pickup_a.pk, actor=SYSTEM)
    pickup_a.refresh_from_db()
    return pickup_a


def wrong_code(fo) -> str:
    return "0" * PICKUP_CODE_DIGITS if fo.pickup_code != "0" * PICKUP_CODE_DIGITS else "1" * 8


def test_codes_are_eight_digits(ready_a):
    assert len(ready_a.pickup_code) == PICKUP_CODE_DIGITS == 8
    assert ready_a.pickup_code.isdigit()


@override_settings(OMS_PICKUP_CODE_MAX_ATTEMPTS=3)
def test_n_wrong_codes_lock_the_hand_over_then_a_store_lead_unlocks_it(
    alice_client, nodes, ready_a
):
    for attempt in (1, 2):
        response = post(alice_client, "hand_over", ready_a, pickup_code=wrong_code(ready_a))
        assert response.status_code == 400
        assert f"{3 - attempt} tr" in response.content.decode()  # tries left, in words

    response = post(alice_client, "hand_over", ready_a, pickup_code=wrong_code(ready_a))
    assert response.status_code == 409
    assert "Hand-over locked" in response.content.decode()

    # each failure recorded with its count, never the code
    failed = events(ready_a, "fulfillment.pickup_code_failed")
    assert [e.payload["attempts"] for e in failed] == [1, 2, 3]
    assert [e.payload["locked"] for e in failed] == [False, False, True]
    assert all(ready_a.pickup_code not in str(e.payload) for e in failed)
    assert all(wrong_code(ready_a) not in str(e.payload) for e in failed)
    assert len(events(ready_a, "fulfillment.pickup_locked")) == 1
    case = ExceptionCase.objects.get(kind="pickup_locked")
    assert case.status == CaseStatus.OPEN
    assert case.details["attempts"] == 3

    # locked: even the right code is refused
    response = post(alice_client, "hand_over", ready_a, pickup_code=ready_a.pickup_code)
    assert response.status_code in (400, 409)
    assert status_of(ready_a) == S_READY
    page = alice_client.get(url("fulfillment", ready_a)).content.decode()
    assert "Hand-over locked" in page
    assert "Ask your store lead" in page

    # an associate (not a lead) may not unlock
    response = post(alice_client, "unlock_pickup", ready_a, note="ID checked")
    assert response.status_code == 403

    lead = scenario.associate("lena", nodes["a"], role=StoreRole.LEAD)
    lead_client = client_for(lead)
    assert "Unlock hand-over" in lead_client.get(url("fulfillment", ready_a)).content.decode()
    response = post(lead_client, "unlock_pickup", ready_a, note="Photo ID matches the order")
    assert response.status_code == 302
    ready_a.refresh_from_db()
    assert ready_a.pickup_locked_at is None
    assert ready_a.pickup_failed_attempts == 0
    unlocked = events(ready_a, "fulfillment.pickup_unlocked")
    assert unlocked[0].payload["attempts"] == 3
    assert unlocked[0].actor_label == "lena"
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED

    response = post(alice_client, "hand_over", ready_a, pickup_code=ready_a.pickup_code)
    assert response.status_code == 302
    assert status_of(ready_a) == S_PICKED_UP


@override_settings(OMS_PICKUP_CODE_MAX_ATTEMPTS=2)
def test_ops_unlock_from_the_exception_case(ready_a):
    for _ in range(2):
        with pytest.raises((WrongPickupCode, PickupLocked)):
            hand_over(fulfillment_id=ready_a.pk, pickup_code=wrong_code(ready_a), actor=SYSTEM)
    with pytest.raises(PickupLocked):
        hand_over(fulfillment_id=ready_a.pk, pickup_code=ready_a.pickup_code, actor=SYSTEM)
    case = ExceptionCase.objects.get(kind="pickup_locked")

    unlock_pickup_case(case_id=case.pk, user=superuser(), note="customer called, ID checked")

    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED
    hand_over(fulfillment_id=ready_a.pk, pickup_code=ready_a.pickup_code, actor=SYSTEM)
    assert status_of(ready_a) == S_PICKED_UP
