"""AfterShip tracking: webhook bodies (`{"event": "tracking_update", "msg": Tracking, ...}`),
API envelopes (`{"meta", "data": {"tracking": Tracking}}`), last-checkpoint envelopes
(`{"meta", "data": {"tag", "checkpoint", ...}}`) and bare Tracking objects, plus the
`aftership-hmac-sha256` check.

A checkpoint's `checkpoint_time` is the carrier's local time; when it has no UTC offset it is
read as UTC (AfterShip documents that the format varies by carrier).
"""

from __future__ import annotations

import base64
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

PROVIDER = "aftership"
SIGNATURE_HEADER = "aftership-hmac-sha256"

#: AfterShip `tag` (tracking and checkpoint) -> ours.
TAG_MAP: dict[str, str] = {
    "Pending": "pre_transit",
    "InfoReceived": "pre_transit",
    "InTransit": "in_transit",
    "OutForDelivery": "out_for_delivery",
    "AvailableForPickup": "out_for_delivery",
    "AttemptFail": "exception",
    "Delivered": "delivered",
    "Exception": "exception",
    "Expired": "exception",
}


def map_tag(tag: str) -> str:
    return TAG_MAP.get(tag.strip(), "unknown")


def parse_aftership(
    payload: Mapping[str, Any] | str | bytes, headers: Mapping[str, str] | None = None
) -> list[TrackingUpdate]:
    """Map an AfterShip webhook body (or API response, or Tracking) to TrackingUpdates."""
    data = load_payload(payload)
    if "msg" in data:
        event_id = data.get("event_id") if isinstance(data.get("event_id"), str) else None
        return [_tracking(get_obj(data, "msg", "msg"), "msg", message_id=event_id)]
    if "data" in data:
        body = get_obj(data, "data", "data")
        if "tracking" in body:
            return [_tracking(get_obj(body, "tracking", "data.tracking"), "data.tracking")]
        if "checkpoint" in body:
            return [_last_checkpoint(body, "data")]
        raise TrackingPayloadInvalid(
            "unrecognized_payload", "AfterShip response without a tracking or checkpoint"
        )
    if "tracking_number" in data and "tag" in data:
        return [_tracking(data, "")]
    raise TrackingPayloadInvalid("unrecognized_payload", "not an AfterShip tracking or webhook")


def _status(tracking: Mapping[str, Any], raw_tag: str) -> str:
    # AfterShip flags a parcel on its way back with return_to_sender, whatever the tag says.
    return "returned" if tracking.get("return_to_sender") is True else map_tag(raw_tag)


def _tracking(tracking: Mapping[str, Any], path: str, message_id: str | None = None):
    def at(key: str) -> str:
        return f"{path}.{key}" if path else key

    tracking_number = get_tracking_number(tracking, "tracking_number", at("tracking_number"))
    raw_tag = get_str(tracking, "tag", at("tag"))
    checkpoints = get_list(tracking, "checkpoints", at("checkpoints"))
    events = [_checkpoint(cp, p) for p, cp in items(checkpoints, at("checkpoints"))]
    fallback = optional_datetime(tracking, "last_updated_at", at("last_updated_at"))
    fallback = fallback or optional_datetime(tracking, "updated_at", at("updated_at"))
    return build_update(
        provider=PROVIDER,
        carrier=get_str(tracking, "slug", at("slug"), required=False) or "unknown",
        tracking_number=tracking_number,
        status=_status(tracking, raw_tag),
        raw_status=raw_tag,
        status_detail=get_str(tracking, "subtag_message", at("subtag_message"), required=False),
        events=events,
        fallback_at=fallback,
        message_id=message_id,
        time_field=at("last_updated_at"),
    )


def _last_checkpoint(body: Mapping[str, Any], path: str) -> TrackingUpdate:
    tracking_number = get_tracking_number(body, "tracking_number", f"{path}.tracking_number")
    raw_tag = get_str(body, "tag", f"{path}.tag")
    event = _checkpoint(get_obj(body, "checkpoint", f"{path}.checkpoint"), f"{path}.checkpoint")
    return build_update(
        provider=PROVIDER,
        carrier=get_str(body, "slug", f"{path}.slug", required=False) or "unknown",
        tracking_number=tracking_number,
        status=_status(body, raw_tag),
        raw_status=raw_tag,
        status_detail=get_str(body, "subtag_message", f"{path}.subtag_message", required=False),
        events=[event],
    )


def _checkpoint(checkpoint: Mapping[str, Any], path: str) -> TrackingEventData:
    raw_tag = get_str(checkpoint, "tag", f"{path}.tag", required=False)
    location = get_str(checkpoint, "location", f"{path}.location", required=False).strip()
    if not location:
        country = checkpoint.get("country_iso3") or checkpoint.get("country_name")
        location = format_location(
            checkpoint.get("city"), checkpoint.get("state"), checkpoint.get("zip"), country
        )
    return TrackingEventData(
        occurred_at=parse_datetime(checkpoint.get("checkpoint_time"), f"{path}.checkpoint_time"),
        status=map_tag(raw_tag),  # type: ignore[arg-type]  # a TrackingStatus; checked at init
        description=get_str(checkpoint, "message", f"{path}.message", required=False),
        location=location or None,
        raw_status=raw_tag,
    )


def aftership_signature(raw_body: bytes | str, secret: str) -> str:
    """The `aftership-hmac-sha256` value: base64 of HMAC-SHA256(raw body, webhook secret)."""
    digest = hmac_sha256(secret.encode("utf-8"), as_bytes(raw_body))
    return base64.b64encode(digest).decode("ascii")


def verify_aftership_signature(
    raw_body: bytes | str, headers: Mapping[str, str], secret: str
) -> bool:
    """True only when `aftership-hmac-sha256` matches the raw body under `secret`."""
    if not secret:
        return False
    return same(aftership_signature(raw_body, secret), header(headers, SIGNATURE_HEADER))
