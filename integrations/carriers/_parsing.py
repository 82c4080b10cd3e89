"""Shared, defensive readers for inbound tracking payloads and signature headers.

Every reader names the path it looked at, so a malformed payload raises
`TrackingPayloadInvalid(code, message, field=path)` and never a KeyError or TypeError.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from integrations.carriers.base import TrackingEventData, TrackingPayloadInvalid, TrackingUpdate


def load_payload(payload: Any) -> Mapping[str, Any]:
    """Accept a parsed dict, or the raw JSON body as str/bytes; return a non-empty mapping."""
    if isinstance(payload, bytes | bytearray | memoryview):
        try:
            payload = bytes(payload).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TrackingPayloadInvalid("invalid_json", "body is not UTF-8") from exc
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except ValueError as exc:
            raise TrackingPayloadInvalid("invalid_json", f"body is not JSON: {exc}") from exc
    if not isinstance(payload, Mapping):
        raise TrackingPayloadInvalid(
            "not_an_object", f"expected a JSON object, got {type(payload).__name__}"
        )
    if not payload:
        raise TrackingPayloadInvalid("empty_payload", "the payload is an empty object")
    return payload


def _missing(path: str) -> TrackingPayloadInvalid:
    return TrackingPayloadInvalid("missing_field", f"{path} is required", field=path)


def _wrong_type(path: str, expected: str, value: Any) -> TrackingPayloadInvalid:
    return TrackingPayloadInvalid(
        "wrong_type", f"{path} must be {expected}, got {type(value).__name__}", field=path
    )


def get_obj(obj: Mapping[str, Any], key: str, path: str, *, required: bool = True):
    value = obj.get(key)
    if value is None:
        if required:
            raise _missing(path)
        return None
    if not isinstance(value, Mapping):
        raise _wrong_type(path, "an object", value)
    return value


def get_list(obj: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> list:
    value = obj.get(key)
    if value is None:
        if required:
            raise _missing(path)
        return []
    if not isinstance(value, list):
        raise _wrong_type(path, "a list", value)
    return value


def get_str(obj: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> str:
    """A string field; absent or null gives "" unless required. Numbers are not strings."""
    value = obj.get(key)
    if value is None:
        if required:
            raise _missing(path)
        return ""
    if not isinstance(value, str):
        raise _wrong_type(path, "a string", value)
    return value


def get_tracking_number(obj: Mapping[str, Any], key: str, path: str) -> str:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise _wrong_type(path, "a string", value)
    if not value or not value.strip():
        raise TrackingPayloadInvalid(
            "missing_tracking_number", f"{path} is missing or empty", field=path
        )
    return value.strip()


def items(values: list, path: str) -> Iterable[tuple[str, Mapping[str, Any]]]:
    """Yield (path, object) for each element of a list of objects."""
    for index, value in enumerate(values):
        item_path = f"{path}[{index}]"
        if not isinstance(value, Mapping):
            raise _wrong_type(item_path, "an object", value)
        yield item_path, value


def parse_datetime(value: Any, path: str) -> datetime:
    """ISO 8601 to an aware datetime. A value without an offset is taken as UTC."""
    if value is None:
        raise _missing(path)
    if not isinstance(value, str):
        raise _wrong_type(path, "an ISO 8601 string", value)
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise TrackingPayloadInvalid(
            "invalid_datetime", f"{path} is not ISO 8601: {value!r}", field=path
        ) from exc
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def optional_datetime(obj: Mapping[str, Any], key: str, path: str) -> datetime | None:
    value = obj.get(key)
    return None if value in (None, "") else parse_datetime(value, path)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def format_location(
    city: Any = None, region: Any = None, postal: Any = None, country: Any = None
) -> str | None:
    """'City, ST 12345, US' from whichever parts are present and textual; None if none are."""
    city, region, postal, country = _text(city), _text(region), _text(postal), _text(country)
    region_postal = " ".join(p for p in (region, postal) if p)
    text = ", ".join(p for p in (city, region_postal, country) if p)
    return text or None


def build_update(
    *,
    provider: str,
    carrier: str,
    tracking_number: str,
    status: str,
    raw_status: str,
    status_detail: str,
    events: Iterable[TrackingEventData],
    occurred_at: datetime | None = None,
    location: str | None = None,
    fallback_at: datetime | None = None,
    message_id: str | None = None,
    time_field: str = "updated_at",
) -> TrackingUpdate:
    """Assemble a TrackingUpdate with its events oldest first.

    Without a provider status time, the current status took effect at the newest event carrying
    it (else the newest event, else `fallback_at`); that event also fills in the location and,
    when the provider gave none, the status detail.
    """
    ordered = tuple(sorted(events, key=lambda event: event.occurred_at))
    current = next((e for e in reversed(ordered) if e.status == status), None)
    current = current or (ordered[-1] if ordered else None)
    if current is not None:
        status_detail = status_detail or current.description
        if occurred_at is None:
            occurred_at = current.occurred_at
            location = location or current.location
    if occurred_at is None:
        occurred_at = fallback_at
    if occurred_at is None:
        raise TrackingPayloadInvalid(
            "missing_field", f"no event and no {time_field}", field=time_field
        )
    return TrackingUpdate(
        carrier=carrier.strip().lower(),
        tracking_number=tracking_number,
        status=status,  # type: ignore[arg-type]  # a TrackingStatus; checked at init
        status_detail=status_detail,
        occurred_at=occurred_at,
        location=location,
        events=ordered,
        raw_status=raw_status,
        provider=provider,
        message_id=message_id or None,
    )


# --------------------------------------------------------------------------- signatures


def header(headers: Mapping[str, str] | None, name: str) -> str:
    """Case-insensitive header lookup over a plain dict or Django's request.headers."""
    if not headers:
        return ""
    wanted = name.lower()
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == wanted and isinstance(value, str):
            return value.strip()
    return ""


def as_bytes(raw_body: bytes | bytearray | memoryview | str) -> bytes:
    return raw_body.encode("utf-8") if isinstance(raw_body, str) else bytes(raw_body)


def hmac_sha256(secret: bytes, message: bytes) -> bytes:
    return hmac.new(secret, message, hashlib.sha256).digest()


def same(expected: str, given: str) -> bool:
    """Constant-time comparison of two ASCII strings; False when either is empty."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))
