"""The payment provider port: authorize, capture, void and refund, each keyed by the provider's
own idempotency key (the same key twice is one operation at the provider). Adapters translate a
provider's answers into `ProviderResult`, `PaymentRefused` (terminal: declined, expired) or
`PaymentUnavailable` (retryable: timeout, 5xx; the outcome is unknown, so the retry must use the
same key)."""

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
class ProviderResult:
    reference: str
    amount: Decimal
    currency: str


# The name the forward flow used for a capture's answer.
CaptureResult = ProviderResult


class PaymentProvider(Protocol):
    name: str

    def authorize(
        self, *, order_number: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> ProviderResult:
        """Hold `amount` on the customer's instrument."""
        ...

    def capture(
        self,
        *,
        order_number: str,
        authorization: str,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
    ) -> ProviderResult:
        """Charge `amount` of the authorization (several partial captures are allowed)."""
        ...

    def void(
        self,
        *,
        order_number: str,
        authorization: str,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
    ) -> ProviderResult:
        """Release what is left of the authorization; nothing more can be captured."""
        ...

    def refund(
        self,
        *,
        order_number: str,
        capture_reference: str,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
    ) -> ProviderResult:
        """Give back `amount` of what was captured."""
        ...
