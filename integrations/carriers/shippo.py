"""Shippo tracking: `track_updated` webhook bodies (`{"event", "test", "data": Track}`) and bare
Track objects (GET /tracks/{carrier}/{number}), plus the `Shippo-Auth-Signature` check.

Webhooks of other events (`transaction_created`, `batch_purchased`, ...) parse to an empty list.
Shippo has no out-for-delivery status: it reports TRANSIT and, on newer accounts, a
`substatus.code` of `out_for_delivery`, which is honoured when present.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from integrations.carriers._parsing import (
    as_bytes,
    build_update,
    format_location,
    get_list,
    get_obj,
    get_str,
    get_tracking_number,
    header,
    hmac_sha256,
    items,
    load_payload,
    optional_datetime,
    parse_datetime,
    same,
)
from integrations.carriers.base import TrackingEventData, TrackingPayloadInvalid, TrackingUpdate

PROVIDER = "shippo"
SIGNATURE_HEADER = "Shippo-Auth-Signature"
SIGNATURE_TOLERANCE_SECONDS = 300
TRACK_EVENTS = frozenset({"track_updated"})

#: Shippo `tracking_status.status` / `tracking_history[].status` -> ours.
STATUS_MAP: dict[str, str] = {
    "PRE_TRANSIT": "pre_transit",
    "TRANSIT": "in_transit",
    "DELIVERED": "delivered",
    "RETURNED": "returned",
    "FAILURE": "exception",
    "UNKNOWN": "unknown",
}
#: `substatus.code` values that refine TRANSIT.
TRANSIT_SUBSTATUS_MAP: dict[str, str] = {
    "out_for_delivery": "out_for_delivery",
    "pickup_available": "out_for_delivery",
}


def map_status(raw: str, substatus: str = "") -> str:
    status = STATUS_MAP.get(raw.strip().upper(), "unknown")
    if status == "in_transit":
        return TRANSIT_SUBSTATUS_MAP.get(substatus, status)
    return status


def parse_shippo(
    payload: Mapping[str, Any] | str | bytes, headers: Mapping[str, str] | None = None
) -> list[TrackingUpdate]:
    """Map a Shippo track webhook body (or Track object) to TrackingUpdates."""
    data = load_payload(payload)
    if "event" in data:
        event = get_str(data, "event", "event")
        if event not in TRACK_EVENTS:
            return []
        return [_track(get_obj(data, "data", "data"), "data")]
    if "tracking_number" in data and ("tracking_status" in data or "tracking_history" in data):
        return [_track(data, "")]
    raise TrackingPayloadInvalid("unrecognized_payload", "not a Shippo track object or webhook")


def _substatus(obj: Mapping[str, Any], path: str) -> str:
    substatus = get_obj(obj, "substatus", f"{path}.substatus", required=False)
    if substatus is None:
        return ""
    return get_str(substatus, "code", f"{path}.substatus.code", required=False)


def _location(obj: Mapping[str, Any], path: str) -> str | None:
    place = get_obj(obj, "location", f"{path}.location", required=False)
    if place is None:
        return None
    return format_location(
        place.get("city"), place.get("state"), place.get("zip"), place.get("country")
    )


def _track(track: Mapping[str, Any], path: str) -> TrackingUpdate:
    def at(key: str) -> str:
        return f"{path}.{key}" if path else key

    tracking_number = get_tracking_number(track, "tracking_number", at("tracking_number"))
    history = get_list(track, "tracking_history", at("tracking_history"))
    events = [_event(entry, p) for p, entry in items(history, at("tracking_history"))]
    current = get_obj(track, "tracking_status", at("tracking_status"), required=False)
    raw_status = detail = ""
    status = "unknown"  # a registered track the carrier has said nothing about yet
    occurred_at = fallback = None
    location = object_id = None
    if current is not None:
        where = at("tracking_status")
        raw_status = get_str(current, "status", f"{where}.status")
        status = map_status(raw_status, _substatus(current, where))
        detail = get_str(current, "status_details", f"{where}.status_details", required=False)
        occurred_at = optional_datetime(current, "status_date", f"{where}.status_date")
        fallback = optional_datetime(current, "object_updated", f"{where}.object_updated")
        location = _location(current, where)
        object_id = get_str(current, "object_id", f"{where}.object_id", required=False)
    return build_update(
        provider=PROVIDER,
        carrier=get_str(track, "carrier", at("carrier"), required=False) or "unknown",
        tracking_number=tracking_number,
        status=status,
        raw_status=raw_status,
        status_detail=detail,
        events=events,
        occurred_at=occurred_at,
        location=location,
        fallback_at=fallback,
        message_id=object_id,
        time_field=at("tracking_status.status_date"),
    )


def _event(entry: Mapping[str, Any], path: str) -> TrackingEventData:
    raw_status = get_str(entry, "status", f"{path}.status", required=False)
    return TrackingEventData(
        occurred_at=parse_datetime(entry.get("status_date"), f"{path}.status_date"),
        status=map_status(raw_status, _substatus(entry, path)),  # type: ignore[arg-type]  # TrackingStatus; checked
        description=get_str(entry, "status_details", f"{path}.status_details", required=False),
        location=_location(entry, path),
        raw_status=raw_status,
    )


def shippo_signature(raw_body: bytes | str, secret: str, timestamp: int) -> str:
    """The `Shippo-Auth-Signature` value: `t=<unix seconds>,v1=<hex HMAC-SHA256>` computed over
    `"<t>." + raw body` with the webhook's HMAC secret."""
    message = f"{timestamp}.".encode() + as_bytes(raw_body)
    return f"t={timestamp},v1={hmac_sha256(secret.encode('utf-8'), message).hex()}"


def verify_shippo_signature(
    raw_body: bytes | str,
    headers: Mapping[str, str],
    secret: str,
    *,
    now: float | None = None,
    tolerance_seconds: int = SIGNATURE_TOLERANCE_SECONDS,
) -> bool:
    """True only when the signature matches and its timestamp is within the tolerance of `now`
    (replay protection). Never true without a secret."""
    if not secret:
        return False
    fields: dict[str, str] = {}
    for part in header(headers, SIGNATURE_HEADER).split(","):
        key, _, value = part.strip().partition("=")
        fields.setdefault(key, value.strip())
    timestamp = fields.get("t", "")
    if not timestamp.isdigit():
        return False
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance_seconds:
        return False
    expected = shippo_signature(raw_body, secret, int(timestamp)).rpartition("v1=")[2]
    return same(expected, fields.get("v1", "").lower())
