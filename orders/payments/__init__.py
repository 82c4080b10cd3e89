"""Payment providers behind one interface. The simulated provider drives the demo and tests;
real providers (Stripe, Adyen, …) are adapters of the same shape."""

from orders.payments.base import (
    CaptureResult,
    PaymentProvider,
    PaymentRefused,
    PaymentUnavailable,
    provider_for,
)

__all__ = [
    "CaptureResult",
    "PaymentProvider",
    "PaymentRefused",
    "PaymentUnavailable",
    "provider_for",
]
