"""The carrier adapter interface: plain values in, plain values out, no database.

Services that own the database call an adapter from Celery tasks: `buy_labels()` to get labels,
`void_label()` to cancel one, and the inbound mappers (`parse_<format>()`) to turn a carrier's
tracking webhook into `TrackingUpdate`s. Errors say whether a retry can help:
`CarrierUnavailable` (timeouts, 5xx: retry with backoff) or `CarrierRequestRefused` (bad address,
4xx: retrying the same request fails the same way; raise an exception case instead).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal, Protocol, runtime_checkable

TrackingStatus = Literal[
    "pre_transit",
    "in_transit",
    "out_for_delivery",
    "delivered",
    "exception",
    "returned",
    "unknown",
]
TRACKING_STATUSES: tuple[str, ...] = (
    "pre_transit",
    "in_transit",
    "out_for_delivery",
    "delivered",
    "exception",
    "returned",
    "unknown",
)
#: Statuses after which a parcel's journey is over (no further update is expected).
FINAL_TRACKING_STATUSES = frozenset({"delivered", "returned"})

ServiceLevel = Literal["standard", "express", "same_day"]
SERVICE_LEVELS: tuple[str, ...] = ("standard", "express", "same_day")


# --------------------------------------------------------------------------- errors


class CarrierError(Exception):
    """Base of every carrier error. `code` is stable and machine-readable; `retryable` says
    whether sending the same request again later can succeed."""

    retryable = False

    def __init__(self, code: str, message: str = "") -> None:
        self.code = code
        self.message = message or code
        super().__init__(f"{code}: {self.message}")


class CarrierUnavailable(CarrierError):
    """The carrier could not answer (timeout, connection error, 5xx, rate limit). Retry later."""

    retryable = True


class CarrierRequestRefused(CarrierError):
    """The carrier answered no (invalid address, unsupported service, 4xx). Do not retry as is."""

    retryable = False


class TrackingPayloadInvalid(CarrierError):
    """An inbound tracking payload cannot be read. `field` names the offending path, if any.

    Codes: invalid_json, not_an_object, empty_payload, unrecognized_payload,
    missing_tracking_number, missing_field, wrong_type, invalid_datetime.
    """

    retryable = False

    def __init__(self, code: str, message: str = "", *, field: str | None = None) -> None:
        self.field = field
        super().__init__(code, message)


# --------------------------------------------------------------------------- label values


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


@dataclass(frozen=True, slots=True, kw_only=True)
class Parcel:
    weight_grams: int
    length_cm: Decimal | None = None
    width_cm: Decimal | None = None
    height_cm: Decimal | None = None
    description: str = ""

    def __post_init__(self) -> None:
        _require(
            isinstance(self.weight_grams, int) and not isinstance(self.weight_grams, bool),
            "weight_grams must be an int",
        )
        _require(self.weight_grams > 0, "weight_grams must be positive")
        for name in ("length_cm", "width_cm", "height_cm"):
            value = getattr(self, name)
            _require(value is None or Decimal(value) > 0, f"{name} must be positive")


@dataclass(frozen=True, slots=True, kw_only=True)
class Address:
    name: str
    line1: str
    line2: str = ""
    city: str
    region: str = ""
    postal_code: str = ""
    country: str
    phone: str = ""

    def __post_init__(self) -> None:
        for name in ("name", "line1", "city"):
            _require(bool(getattr(self, name).strip()), f"address {name} is required")
        _require(
            len(self.country) == 2 and self.country.isalpha() and self.country.isupper(),
            "country must be an ISO 3166-1 alpha-2 code",
        )

    def lines(self) -> tuple[str, ...]:
        """The address as printed on a label, empty parts left out."""
        city_line = " ".join(part for part in (self.city, self.region, self.postal_code) if part)
        parts = (self.name, self.line1, self.line2, city_line, self.country)
        return tuple(part for part in parts if part)


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelRequest:
    reference: str  # the fulfillment id: the adapter's idempotency key
    ship_from: Address
    ship_to: Address
    service_level: ServiceLevel
    parcels: tuple[Parcel, ...]

    def __post_init__(self) -> None:
        _require(bool(self.reference.strip()), "reference is required")
        _require(
            self.service_level in SERVICE_LEVELS, f"unknown service_level {self.service_level}"
        )
        object.__setattr__(self, "parcels", tuple(self.parcels))
        _require(len(self.parcels) > 0, "at least one parcel is required")
        _require(all(isinstance(p, Parcel) for p in self.parcels), "parcels must be Parcel values")


@dataclass(frozen=True, slots=True, kw_only=True)
class Label:
    """One bought label; a request with n parcels yields n labels, in parcel order."""

    carrier: str
    service: str
    tracking_number: str
    parcel_index: int
    label_pdf: bytes = field(repr=False)
    cost: Decimal
    currency: str
    label_format: str = "pdf"

    def __post_init__(self) -> None:
        _require(isinstance(self.cost, Decimal), "cost must be a Decimal")
        _require(len(self.currency) == 3 and self.currency.isupper(), "currency must be ISO 4217")


# --------------------------------------------------------------------------- tracking values


def _check_tracking(status: str, occurred_at: datetime) -> None:
    _require(status in TRACKING_STATUSES, f"unknown tracking status {status!r}")
    _require(occurred_at.utcoffset() is not None, "occurred_at must be timezone-aware")


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackingEventData:
    occurred_at: datetime
    status: TrackingStatus
    description: str
    location: str | None = None
    raw_status: str = ""

    def __post_init__(self) -> None:
        _check_tracking(self.status, self.occurred_at)


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackingUpdate:
    """The state of one parcel as a carrier reported it, with its event history (oldest first).

    `occurred_at` is when the current status took effect: the newest event carrying it, else the
    newest event, else the provider's own status timestamp. `raw_status` keeps the provider's
    value so an "unknown" mapping can be read and fixed. `provider` names the format that
    produced the update; `message_id` is the provider's id for the message, when it has one
    (dedupe inbound messages by (provider, message_id)).
    """

    carrier: str
    tracking_number: str
    status: TrackingStatus
    status_detail: str
    occurred_at: datetime
    location: str | None
    events: tuple[TrackingEventData, ...]
    raw_status: str
    provider: str = ""
    message_id: str | None = None

    def __post_init__(self) -> None:
        _check_tracking(self.status, self.occurred_at)
        _require(bool(self.tracking_number), "tracking_number is required")
        object.__setattr__(self, "events", tuple(self.events))

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_TRACKING_STATUSES


# --------------------------------------------------------------------------- the protocol


@runtime_checkable
class CarrierAdapter(Protocol):
    """What a label-buying carrier connector offers. Implementations must be idempotent on
    `LabelRequest.reference`: buying twice for the same reference returns the same labels
    rather than paying twice, and voiding an already-voided label is a no-op."""

    name: str

    def buy_labels(self, request: LabelRequest) -> tuple[Label, ...]: ...

    def void_label(self, tracking_number: str) -> None: ...
