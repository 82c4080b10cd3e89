"""Carrier adapters: buy and void labels, and read carriers' tracking webhooks.

Pure Python: no ORM, no HTTP framework. The services that own the database call these from Celery
tasks. See docs/carriers.md for the interface, the status mapping tables and the signature schemes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from integrations.carriers.aftership import parse_aftership, verify_aftership_signature
from integrations.carriers.base import (
    FINAL_TRACKING_STATUSES,
    SERVICE_LEVELS,
    TRACKING_STATUSES,
    Address,
    CarrierAdapter,
    CarrierError,
    CarrierRequestRefused,
    CarrierUnavailable,
    Label,
    LabelRequest,
    Parcel,
    TrackingEventData,
    TrackingPayloadInvalid,
    TrackingUpdate,
)
from integrations.carriers.easypost import parse_easypost, verify_easypost_signature
from integrations.carriers.shippo import parse_shippo, verify_shippo_signature
from integrations.carriers.simulated import SimulatedCarrier, simulate_tracking
from integrations.carriers.ups_track_alert import (
    parse_ups_track_alert,
    verify_ups_track_alert_signature,
)

Parser = Callable[..., list[TrackingUpdate]]
Verifier = Callable[[bytes | str, Mapping[str, str], str], bool]


@dataclass(frozen=True, slots=True)
class TrackingFormat:
    """One inbound tracking format: how to check a request and how to read its body."""

    name: str
    parse: Parser
    verify: Verifier


TRACKING_FORMATS: dict[str, TrackingFormat] = {
    fmt.name: fmt
    for fmt in (
        TrackingFormat("easypost", parse_easypost, verify_easypost_signature),
        TrackingFormat("shippo", parse_shippo, verify_shippo_signature),
        TrackingFormat("aftership", parse_aftership, verify_aftership_signature),
        TrackingFormat("ups_track_alert", parse_ups_track_alert, verify_ups_track_alert_signature),
    )
}


def tracking_format(name: str) -> TrackingFormat:
    try:
        return TRACKING_FORMATS[name]
    except KeyError:
        raise LookupError(
            f"no tracking format {name!r}; known: {sorted(TRACKING_FORMATS)}"
        ) from None


def parse_tracking(name: str, payload: Mapping[str, Any] | str | bytes, headers=None):
    """Parse `payload` with the named format (see TRACKING_FORMATS)."""
    return tracking_format(name).parse(payload, headers)


__all__ = [
    "FINAL_TRACKING_STATUSES",
    "SERVICE_LEVELS",
    "TRACKING_FORMATS",
    "TRACKING_STATUSES",
    "Address",
    "CarrierAdapter",
    "CarrierError",
    "CarrierRequestRefused",
    "CarrierUnavailable",
    "Label",
    "LabelRequest",
    "Parcel",
    "SimulatedCarrier",
    "TrackingEventData",
    "TrackingFormat",
    "TrackingPayloadInvalid",
    "TrackingUpdate",
    "parse_aftership",
    "parse_easypost",
    "parse_shippo",
    "parse_tracking",
    "parse_ups_track_alert",
    "simulate_tracking",
    "tracking_format",
    "verify_aftership_signature",
    "verify_easypost_signature",
    "verify_shippo_signature",
    "verify_ups_track_alert_signature",
]
