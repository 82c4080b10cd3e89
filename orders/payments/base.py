from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


class PaymentUnavailable(Exception):
    """Retryable: the provider timed out or answered 5xx."""


class PaymentRefused(Exception):
    """Terminal: the provider refused (authorization expired, card declined)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class CaptureResult:
    reference: str
    amount: Decimal
    currency: str


class PaymentProvider(Protocol):
    def capture(
        self, *, order_number: str, authorization: str, amount: Decimal, currency: str
    ) -> CaptureResult:
        """Capture `amount`; must be idempotent per order number (providers key on it)."""
        ...


class SimulatedProvider:
    """Captures everything, deterministically: the reference derives from the order number,
    so capturing twice returns the same capture. `refuse` lists order numbers to decline."""

    def __init__(self) -> None:
        self.refuse: set[str] = set()
        self.unavailable_next = 0

    def capture(
        self, *, order_number: str, authorization: str, amount: Decimal, currency: str
    ) -> CaptureResult:
        if self.unavailable_next:
            self.unavailable_next -= 1
            raise PaymentUnavailable("simulated provider timeout")
        if order_number in self.refuse:
            raise PaymentRefused("card_declined", f"Capture for {order_number} was declined.")
        return CaptureResult(
            reference=f"cap_{order_number.replace('-', '').lower()}",
            amount=amount,
            currency=currency,
        )


SIMULATED = SimulatedProvider()


def provider_for(method: str) -> PaymentProvider:
    # Every payment method is simulated until a real provider adapter is configured.
    return SIMULATED
