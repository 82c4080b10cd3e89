"""Payment providers behind one interface (base.py). The simulated provider drives the demo and
tests (simulated.py, scriptable to decline or time out); real providers (Stripe, Adyen, …) are
adapters of the same shape."""

from orders.payments.base import (
    CaptureResult,
    PaymentProvider,
    PaymentRefused,
    PaymentUnavailable,
    ProviderResult,
)
from orders.payments.simulated import SIMULATED, provider_for, script_simulated_payment

__all__ = [
    "SIMULATED",
    "CaptureResult",
    "PaymentProvider",
    "PaymentRefused",
    "PaymentUnavailable",
    "ProviderResult",
    "provider_for",
    "script_simulated_payment",
]
