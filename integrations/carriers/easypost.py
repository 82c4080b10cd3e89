"""EasyPost tracking webhooks: `tracker.created`/`tracker.updated` Event bodies, bare Tracker
objects and tracker lists (`{"trackers": [...]}`), and the `X-Hmac-Signature` check.

Events of other kinds (`batch.created`, `shipment.invoice.created`, ...) are valid EasyPost
webhooks that carry no tracking: they parse to an empty list so the endpoint can acknowledge them.
"""

from __future__ import annotations

import unicodedata
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

PROVIDER = "easypost"
SIGNATURE_HEADER = "X-Hmac-Signature"
SIGNATURE_PREFIX = "hmac-sha256-hex="
TRACKER_EVENTS = frozenset({"tracker.created", "tracker.updated"})

#: EasyPost Tracker / TrackingDetail `status` -> ours.
STATUS_MAP: dict[str, str] = {
    "pre_transit": "pre_transit",
    "in_transit": "in_transit",
    "out_for_delivery": "out_for_delivery",
    "available_for_pickup": "out_for_delivery",
    "delivered": "delivered",
    "return_to_sender": "returned",
    "failure": "exception",
    "cancelled": "exception",
    "error": "unknown",
    "unknown": "unknown",
}


def map_status(raw: str) -> str:
    return STATUS_MAP.get(raw.strip().lower(), "unknown")


def parse_easypost(
    payload: Mapping[str, Any] | str | bytes, headers: Mapping[str, str] | None = None
) -> list[TrackingUpdate]:
    """Map an EasyPost webhook body (or Tracker, or tracker list) to TrackingUpdates."""
    data = load_payload(payload)
    if "trackers" in data:
        trackers = get_list(data, "trackers", "trackers", required=True)
        return [_tracker(tracker, path) for path, tracker in items(trackers, "trackers")]
    if data.get("object") == "Event" or ("result" in data and "description" in data):
        description = get_str(data, "description", "description")
        if description not in TRACKER_EVENTS:
            return []
        result = get_obj(data, "result", "result")
        event_id = data.get("id") if isinstance(data.get("id"), str) else None
        return [_tracker(result, "result", message_id=event_id)]
    kind = data.get("object")
    if kind == "Tracker" or (kind is None and "tracking_code" in data):
        return [_tracker(data, "")]
    raise TrackingPayloadInvalid(
        "unrecognized_payload",
        f"not an EasyPost Event, Tracker or tracker list (object={kind!r})",
    )


def _tracker(tracker: Mapping[str, Any], path: str, message_id: str | None = None):
    def at(key: str) -> str:
        return f"{path}.{key}" if path else key

    tracking_number = get_tracking_number(tracker, "tracking_code", at("tracking_code"))
    raw_status = get_str(tracker, "status", at("status"))
    details = get_list(tracker, "tracking_details", at("tracking_details"))
    events = [_detail(detail, p) for p, detail in items(details, at("tracking_details"))]
    return build_update(
        provider=PROVIDER,
        carrier=get_str(tracker, "carrier", at("carrier"), required=False) or "unknown",
        tracking_number=tracking_number,
        status=map_status(raw_status),
        raw_status=raw_status,
        status_detail=get_str(tracker, "status_detail", at("status_detail"), required=False),
        events=events,
        fallback_at=optional_datetime(tracker, "updated_at", at("updated_at")),
        message_id=message_id,
        time_field=at("updated_at"),
    )


def _detail(detail: Mapping[str, Any], path: str) -> TrackingEventData:
    raw_status = get_str(detail, "status", f"{path}.status", required=False)
    description = get_str(detail, "message", f"{path}.message", required=False) or get_str(
        detail, "description", f"{path}.description", required=False
    )
    place = get_obj(detail, "tracking_location", f"{path}.tracking_location", required=False)
    location = None
    if place is not None:
        location = format_location(
            place.get("city"), place.get("state"), place.get("zip"), place.get("country")
        )
    return TrackingEventData(
        occurred_at=parse_datetime(detail.get("datetime"), f"{path}.datetime"),
        status=map_status(raw_status),  # type: ignore[arg-type]  # a TrackingStatus; checked at init
        description=description,
        location=location,
        raw_status=raw_status,
    )


def easypost_signature(raw_body: bytes | str, secret: str) -> str:
    """The `X-Hmac-Signature` value EasyPost sends: HMAC-SHA256 of the raw body, keyed with the
    webhook secret (NFKD-normalised, UTF-8), hex, prefixed `hmac-sha256-hex=`."""
    key = unicodedata.normalize("NFKD", secret).encode("utf-8")
    return SIGNATURE_PREFIX + hmac_sha256(key, as_bytes(raw_body)).hex()


def verify_easypost_signature(
    raw_body: bytes | str, headers: Mapping[str, str], secret: str
) -> bool:
    """True only when `X-Hmac-Signature` matches the raw body under `secret` (never if unset)."""
    if not secret:
        return False
    given = header(headers, SIGNATURE_HEADER).lower()
    return same(easypost_signature(raw_body, secret), given)
