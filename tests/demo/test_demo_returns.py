"""The demo shows returns in every state, refunds (one declined, with its case), an even and
two advance exchanges (one waiting, one back in time and settled at zero) and a goodwill
refund."""

from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from ops.models import ExceptionCase
from returns.models import Exchange, Refund, Return


@pytest.mark.django_db
def test_the_demo_has_a_return_in_every_state_a_refund_and_exchanges():
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())  # a second seed adds nothing

    assert Counter(Return.objects.values_list("status", flat=True)) == {
        "requested": 1,
        "authorized": 2,  # one waits for its advance exchange to come back
        "in_transit": 1,
        "received": 1,
        "inspected": 1,  # its refund was declined
        "closed": 3,  # refunded; settled by an even and by an advance exchange
        "rejected": 1,
        "cancelled": 1,
    }
    assert sorted(Refund.objects.values_list("kind", "status")) == [
        ("appeasement", "succeeded"),
        ("return", "failed"),
        ("return", "succeeded"),
    ]
    assert sorted(Exchange.objects.values_list("kind", "status")) == [
        ("advance", "completed"),
        ("advance", "replacement_placed"),
        ("even", "cancelled"),  # called off with its return
        ("even", "completed"),
    ]
    back = Exchange.objects.get(kind="advance", status="completed").replacement_order
    assert (back.grand_total, back.payment_status) == (Decimal("0"), "paid")
    assert ExceptionCase.objects.filter(kind="payment_failed").exists()
