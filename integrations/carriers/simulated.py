"""A deterministic carrier for the demo and the tests: no network, no clock, no randomness.

- Tracking numbers are `SIM1Z` + 12 digits from SHA-256 of (reference, parcel index): buying
  again for the same reference returns the same numbers and the same PDF bytes (idempotent).
- Each label is a real one-page PDF (see `pdf.py`); the cost comes from weight and service.
- `fail_next(n, kind)` makes the next n calls raise, to exercise retries and exception cases.
- `simulate_tracking()` produces the pre_transit -> delivered journey the demo plays back.
"""

from __future__ import annotations

import hashlib
import re
from collections import deque
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from integrations.carriers.base import (
    CarrierRequestRefused,
    CarrierUnavailable,
    Label,
    LabelRequest,
    TrackingEventData,
    TrackingUpdate,
)
from integrations.carriers.pdf import LabelContent, render_label_pdf

CARRIER = "simulated"
CURRENCY = "USD"
TRACKING_PREFIX = "SIM1Z"
TRACKING_NUMBER = re.compile(rf"^{TRACKING_PREFIX}\d{{12}}$")
MAX_PARCEL_GRAMS = 30_000

#: service level -> (service name, base price, price per started 500 g)
SERVICES: dict[str, tuple[str, Decimal, Decimal]] = {
    "standard": ("SIM Ground", Decimal("5.50"), Decimal("0.90")),
    "express": ("SIM Express", Decimal("12.00"), Decimal("1.75")),
    "same_day": ("SIM Same Day", Decimal("24.00"), Decimal("2.50")),
}

FailureKind = Literal["unavailable", "refused"]
_FAILURES: dict[str, tuple[type[Exception], str, str]] = {
    "unavailable": (CarrierUnavailable, "timeout", "simulated carrier timed out"),
    "refused": (CarrierRequestRefused, "address_invalid", "simulated carrier refused the address"),
}


def tracking_number_for(reference: str, parcel_index: int) -> str:
    digest = hashlib.sha256(f"{reference}\x1f{parcel_index}".encode()).digest()
    return f"{TRACKING_PREFIX}{int.from_bytes(digest[:8], 'big') % 10**12:012d}"


def price(service_level: str, weight_grams: int) -> Decimal:
    _, base, per_step = SERVICES[service_level]
    steps = -(-weight_grams // 500)  # started 500 g steps
    return (base + per_step * steps).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class SimulatedCarrier:
    """Implements `CarrierAdapter`. State (injected failures, voided numbers) is per instance."""

    name = CARRIER

    def __init__(self) -> None:
        self._failures: deque[tuple[FailureKind, str | None]] = deque()
        self._voided: set[str] = set()

    # -- failure injection -------------------------------------------------------------------

    def fail_next(self, n: int = 1, kind: FailureKind = "unavailable", code: str | None = None):
        """Make the next `n` calls (buy or void) raise CarrierUnavailable ("unavailable") or
        CarrierRequestRefused ("refused"), with `code` or a default one."""
        if kind not in _FAILURES:
            raise ValueError(f"kind must be one of {sorted(_FAILURES)}")
        if n < 0:
            raise ValueError("n must not be negative")
        self._failures.extend([(kind, code)] * n)

    def _maybe_fail(self) -> None:
        if self._failures:
            kind, code = self._failures.popleft()
            error, default_code, message = _FAILURES[kind]
            raise error(code or default_code, message)

    # -- CarrierAdapter ----------------------------------------------------------------------

    def buy_labels(self, request: LabelRequest) -> tuple[Label, ...]:
        self._maybe_fail()
        self._validate(request)
        service = SERVICES[request.service_level][0]
        labels = []
        for index, parcel in enumerate(request.parcels):
            number = tracking_number_for(request.reference, index)
            if number in self._voided:
                raise CarrierRequestRefused(
                    "label_voided", f"{number} was voided; buy with a new reference"
                )
            parcel_line = (
                f"Parcel {index + 1} of {len(request.parcels)} - "
                f"{Decimal(parcel.weight_grams) / 1000:.3f} kg"
            )
            pdf = render_label_pdf(
                LabelContent(
                    carrier_name="Simulated Carrier",
                    service=service,
                    tracking_number=number,
                    ship_from=request.ship_from.lines(),
                    ship_to=request.ship_to.lines(),
                    parcel_line=parcel_line,
                    reference=request.reference,
                )
            )
            labels.append(
                Label(
                    carrier=CARRIER,
                    service=service,
                    tracking_number=number,
                    parcel_index=index,
                    label_pdf=pdf,
                    cost=price(request.service_level, parcel.weight_grams),
                    currency=CURRENCY,
                )
            )
        return tuple(labels)

    def void_label(self, tracking_number: str) -> None:
        """Void a label; voiding twice is a no-op. Unknown formats are refused."""
        self._maybe_fail()
        if not TRACKING_NUMBER.match(tracking_number or ""):
            raise CarrierRequestRefused(
                "unknown_tracking_number", f"{tracking_number!r} is not a simulated label"
            )
        self._voided.add(tracking_number)

    @staticmethod
    def _validate(request: LabelRequest) -> None:
        for role, address in (("ship_from", request.ship_from), ("ship_to", request.ship_to)):
            if not address.postal_code.strip():
                raise CarrierRequestRefused("address_invalid", f"{role} has no postal code")
        if request.service_level == "same_day" and (
            request.ship_from.country != request.ship_to.country
        ):
            raise CarrierRequestRefused("service_unavailable", "same_day is domestic only")
        for index, parcel in enumerate(request.parcels):
            if parcel.weight_grams > MAX_PARCEL_GRAMS:
                raise CarrierRequestRefused(
                    "parcel_too_heavy", f"parcel {index} weighs over {MAX_PARCEL_GRAMS} g"
                )


# -- tracking playback ------------------------------------------------------------------------

JOURNEY: tuple[tuple[str, str, str], ...] = (
    ("pre_transit", "Label created, awaiting pickup", "Origin"),
    ("in_transit", "Departed sort facility", "Regional hub"),
    ("out_for_delivery", "Out for delivery", "Local depot"),
    ("delivered", "Delivered to recipient", "Destination"),
)


def simulate_tracking(
    tracking_number: str,
    now: datetime,
    steps: int = len(JOURNEY),
    interval: timedelta = timedelta(hours=6),
) -> list[TrackingUpdate]:
    """The first `steps` stages of the journey as cumulative updates, one per stage: the last
    happens at `now`, each earlier one `interval` before the next."""
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if not 1 <= steps <= len(JOURNEY):
        raise ValueError(f"steps must be between 1 and {len(JOURNEY)}")
    events: list[TrackingEventData] = []
    updates: list[TrackingUpdate] = []
    for index, (status, description, location) in enumerate(JOURNEY[:steps]):
        occurred_at = now - interval * (steps - 1 - index)
        events.append(
            TrackingEventData(
                occurred_at=occurred_at,
                status=status,  # type: ignore[arg-type]  # a TrackingStatus (JOURNEY); checked at init
                description=description,
                location=location,
                raw_status=status,
            )
        )
        updates.append(
            TrackingUpdate(
                carrier=CARRIER,
                tracking_number=tracking_number,
                status=status,  # type: ignore[arg-type]  # a TrackingStatus (JOURNEY); checked at init
                status_detail=description,
                occurred_at=occurred_at,
                location=location,
                events=tuple(events),
                raw_status=status,
                provider=CARRIER,
                message_id=f"{tracking_number}:{index}",
            )
        )
    return updates
