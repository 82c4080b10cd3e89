"""The simulated payment provider of the demo and the tests.

It succeeds unless scripted otherwise: `script_simulated_payment(order_number=..., kind="refund",
outcome="decline")` makes the next refund of that order decline (or time out), `times` times.
The script is a database row (`SimulatedPaymentScript`), consumed with one conditional UPDATE,
so a real Celery worker process sees what a test scripted, and two callers never both use one
scripted answer. References derive from the provider idempotency key, so the same key always
gets the same answer, like a real provider's idempotency.
"""

import hashlib
from decimal import Decimal

from django.db.models import F

from orders.models import PaymentKind, ScriptedOutcome, SimulatedPaymentScript
from orders.payments.base import PaymentProvider, PaymentRefused, PaymentUnavailable, ProviderResult

PREFIXES = {
    PaymentKind.AUTHORIZE: "auth",
    PaymentKind.CAPTURE: "cap",
    PaymentKind.VOID: "void",
    PaymentKind.REFUND: "re",
}


def script_simulated_payment(
    *, order_number: str, kind: str, outcome: str, times: int = 1, code: str = "card_declined"
) -> SimulatedPaymentScript:
    """Make the simulated provider decline or time out the next `times` calls of `kind` for the
    order (replaces any earlier script for that order and kind; `times=0` clears it)."""
    if kind not in PaymentKind.values or outcome not in ScriptedOutcome.values:
        raise ValueError(f"unknown payment kind {kind!r} or outcome {outcome!r}")
    script, _ = SimulatedPaymentScript.objects.update_or_create(
        order_number=order_number,
        kind=kind,
        defaults={"outcome": outcome, "remaining": times, "code": code},
    )
    return script


def _scripted(order_number: str, kind: str) -> SimulatedPaymentScript | None:
    script = SimulatedPaymentScript.objects.filter(
        order_number=order_number, kind=kind, remaining__gt=0
    ).first()
    if script is None:
        return None
    taken = SimulatedPaymentScript.objects.filter(pk=script.pk, remaining__gt=0).update(
        remaining=F("remaining") - 1
    )
    return script if taken else None


class SimulatedProvider:
    name = "simulated"

    def _answer(
        self, *, kind: str, order_number: str, amount: Decimal, currency: str, key: str
    ) -> ProviderResult:
        script = _scripted(order_number, kind)
        if script is not None and script.outcome == ScriptedOutcome.TIMEOUT:
            raise PaymentUnavailable(f"simulated provider timeout ({kind} {order_number})")
        if script is not None:
            raise PaymentRefused(
                script.code, f"The simulated provider declined the {kind} for {order_number}."
            )
        digest = hashlib.sha256(key.encode()).hexdigest()[:20]
        return ProviderResult(
            reference=f"{PREFIXES[PaymentKind(kind)]}_{digest}", amount=amount, currency=currency
        )

    def authorize(
        self, *, order_number: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> ProviderResult:
        return self._answer(
            kind=PaymentKind.AUTHORIZE,
            order_number=order_number,
            amount=amount,
            currency=currency,
            key=idempotency_key,
        )

    def capture(
        self,
        *,
        order_number: str,
        authorization: str,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
    ) -> ProviderResult:
        return self._answer(
            kind=PaymentKind.CAPTURE,
            order_number=order_number,
            amount=amount,
            currency=currency,
            key=idempotency_key,
        )

    def void(
        self,
        *,
        order_number: str,
        authorization: str,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
    ) -> ProviderResult:
        return self._answer(
            kind=PaymentKind.VOID,
            order_number=order_number,
            amount=amount,
            currency=currency,
            key=idempotency_key,
        )

    def refund(
        self,
        *,
        order_number: str,
        capture_reference: str,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
    ) -> ProviderResult:
        return self._answer(
            kind=PaymentKind.REFUND,
            order_number=order_number,
            amount=amount,
            currency=currency,
            key=idempotency_key,
        )


SIMULATED = SimulatedProvider()


def provider_for(method: str) -> PaymentProvider:
    # Every payment method is simulated until a real provider adapter is configured.
    return SIMULATED
