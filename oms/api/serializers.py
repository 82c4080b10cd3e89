"""Building blocks for input serializers (docs/api.md, "Input limits").

- `StrictInputSerializer`: every input serializer derives from it (nested ones too). A key the
  serializer does not declare is refused, `400 validation_failed` with `unknown_field` on that
  key's path, never silently dropped: a typo (`"quantiy"`) must not become a default, and nothing
  the API did not validate is ever stored (node feedback kept junk keys in jsonb).
  tests/contracts/test_strict_input.py checks every request body of the schema uses it.
- `BoundedDateTimeField`: ISO 8601 with a UTC offset within ±14:00 (the widest in use, Kiribati;
  `+20:00` was a 500 from PostgreSQL) and a date between 1970-01-01 and 2099-12-31 (year 0001
  is junk and overflows on conversion to UTC).
"""

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.dateparse import parse_datetime
from rest_framework import serializers

MAX_UTC_OFFSET = timedelta(hours=14)
MIN_YEAR = 1970
MAX_YEAR = 2099


class StrictInputSerializer(serializers.Serializer):
    """Refuses keys it does not declare (`unknown_field`)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            known = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(str(key) for key in data if key not in known)
            if unknown:
                raise serializers.ValidationError(
                    {
                        key: [
                            serializers.ErrorDetail(
                                "This field is not part of the request.", code="unknown_field"
                            )
                        ]
                        for key in unknown[:20]
                    }
                )
        return super().to_internal_value(data)


def validated_payload(serializer: serializers.Serializer) -> dict[str, Any]:
    """A validated serializer's input as plain JSON values (dates as ISO 8601 strings), for a
    message log: what the serializer accepted, and nothing the request had besides."""
    return json.loads(json.dumps(serializer.data, cls=DjangoJSONEncoder))


def datetime_bound_error(value: datetime) -> tuple[str, str] | None:
    """(code, detail) when an aware or naive datetime is outside what oms accepts, else None."""
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_UTC_OFFSET:
        return (
            "timezone_offset_out_of_range",
            "The UTC offset must be between -14:00 and +14:00.",
        )
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        return (
            "date_out_of_range",
            f"The date must be between {MIN_YEAR}-01-01 and {MAX_YEAR}-12-31.",
        )
    return None


def parse_bounded_datetime(text: str) -> datetime | None:
    """`parse_datetime` that answers None for what it cannot parse instead of raising."""
    try:
        return parse_datetime(text)
    except (ValueError, OverflowError):
        return None


class BoundedDateTimeField(serializers.DateTimeField):
    def to_internal_value(self, value: Any) -> datetime:
        parsed = parse_bounded_datetime(value) if isinstance(value, str) else None
        if parsed is not None:
            problem = datetime_bound_error(parsed)
            if problem is not None:
                raise serializers.ValidationError(problem[1], code=problem[0])
        return super().to_internal_value(value)
