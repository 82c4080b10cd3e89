"""UPS Track Alert webhooks (`TrackingEvent` POSTs): one activity per message, no history.

UPS signs nothing: each POST carries the opaque `credential` header that was given in the
subscription request (`destination.credential`); `verify_ups_track_alert_signature` compares it.
The message has no id, so `message_id` is built from tracking number, GMT time and status code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from integrations.carriers._parsing import (
    build_update,
    format_location,
    get_obj,
    get_str,
    get_tracking_number,
    header,
    load_payload,
    same,
)
from integrations.carriers.base import TrackingEventData, TrackingPayloadInvalid, TrackingUpdate

PROVIDER = "ups_track_alert"
CREDENTIAL_HEADER = "credential"

#: `activityStatus.type` -> ours (M/MV manifest, I on the way, U updated delivery date,
#: X exception, D delivery; RS returned to shipper comes from the UPS Track API).
TYPE_MAP: dict[str, str] = {
    "M": "pre_transit",
    "MV": "exception",
    "I": "in_transit",
    "U": "in_transit",
    "X": "exception",
    "D": "delivered",
    "RS": "returned",
}
#: `activityStatus.code` values that mean out for delivery, whatever the type.
OUT_FOR_DELIVERY_CODES = frozenset({"OT", "OF"})
_OUT_FOR_DELIVERY = re.compile(r"out for delivery|loaded on delivery vehicle", re.IGNORECASE)
_RETURNED = re.compile(r"return(ed|ing)? to (the )?(sender|shipper)", re.IGNORECASE)


def map_status(status_type: str, code: str = "", description: str = "") -> str:
    if code.strip().upper() in OUT_FOR_DELIVERY_CODES or _OUT_FOR_DELIVERY.search(description):
        return "out_for_delivery"
    if _RETURNED.search(description):
        return "returned"
    return TYPE_MAP.get(status_type.strip().upper(), "unknown")


def _gmt(data: Mapping[str, Any]) -> datetime:
    day = get_str(data, "gmtActivityDate", "gmtActivityDate")
    clock = get_str(data, "gmtActivityTime", "gmtActivityTime")
    try:
        return datetime.strptime(day.strip() + clock.strip(), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError as exc:
        raise TrackingPayloadInvalid(
            "invalid_datetime",
            f"gmtActivityDate/gmtActivityTime are not YYYYMMDD/HHMMSS: {day!r} {clock!r}",
            field="gmtActivityDate",
        ) from exc


def parse_ups_track_alert(
    payload: Mapping[str, Any] | str | bytes, headers: Mapping[str, str] | None = None
) -> list[TrackingUpdate]:
    """Map one UPS Track Alert TrackingEvent to a TrackingUpdate with one event."""
    data = load_payload(payload)
    if "trackingNumber" not in data and "activityStatus" not in data:
        raise TrackingPayloadInvalid("unrecognized_payload", "not a UPS Track Alert event")
    tracking_number = get_tracking_number(data, "trackingNumber", "trackingNumber")
    activity = get_obj(data, "activityStatus", "activityStatus")
    status_type = get_str(activity, "type", "activityStatus.type")
    code = get_str(activity, "code", "activityStatus.code", required=False).strip()
    description = get_str(activity, "description", "activityStatus.description", required=False)
    occurred_at = _gmt(data)
    place = get_obj(data, "activityLocation", "activityLocation", required=False) or {}
    location = format_location(
        place.get("city"), place.get("stateProvince"), place.get("postalCode"), place.get("country")
    )
    status = map_status(status_type, code, description)
    raw_status = f"{status_type.strip()}/{code}" if code else status_type.strip()
    event = TrackingEventData(
        occurred_at=occurred_at,
        status=status,  # type: ignore[arg-type]  # a TrackingStatus; checked at init
        description=description.strip(),
        location=location,
        raw_status=raw_status,
    )
    return [
        build_update(
            provider=PROVIDER,
            carrier="ups",
            tracking_number=tracking_number,
            status=status,
            raw_status=raw_status,
            status_detail=description.strip(),
            events=[event],
            message_id=f"{tracking_number}:{occurred_at:%Y%m%d%H%M%S}:{raw_status}",
        )
    ]


def verify_ups_track_alert_signature(
    raw_body: bytes | str, headers: Mapping[str, str], secret: str
) -> bool:
    """True only when the `credential` header equals the subscription's credential (`secret`).
    UPS does not sign the body, so `raw_body` is not used; it is accepted for a uniform API."""
    if not secret:
        return False
    return same(secret, header(headers, CREDENTIAL_HEADER))
