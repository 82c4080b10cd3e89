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
import re
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils.dateparse import parse_datetime
from django.utils.functional import cached_property
from rest_framework import serializers
from rest_framework.fields import empty

MAX_UTC_OFFSET = timedelta(hours=14)
MIN_YEAR = 1970
MAX_YEAR = 2099


def _wrong_type(field: serializers.Field, value: Any) -> str | None:
    """What a JSON value should have been, when DRF would coerce it: CharField takes 12 as
    "12", IntegerField takes "12" and 12.0, BooleanField takes "yes". The schema says string,
    integer, boolean; so does the API."""
    if value is None:
        return None  # DRF's own null handling (`required` / allow_null)
    if isinstance(field, serializers.CharField | serializers.DateTimeField):
        return None if isinstance(value, str) else "a string"
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else "true or false"
    if isinstance(field, serializers.IntegerField):
        return None if isinstance(value, int) and not isinstance(value, bool) else "an integer"
    if isinstance(field, serializers.ListField) and isinstance(value, list):
        return next((_wrong_type(field.child, item) for item in value if item is not None), None)
    return None


class StrictInputSerializer(serializers.Serializer):
    """Refuses keys it does not declare (`unknown_field`) and values of the wrong JSON type
    (`invalid`: DRF would have coerced them)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            writable = {name: field for name, field in self.fields.items() if not field.read_only}
            problems: dict[str, Any] = {}
            for key in sorted(str(key) for key in data if key not in writable)[:20]:
                problems[key] = [
                    serializers.ErrorDetail(
                        "This field is not part of the request.", code="unknown_field"
                    )
                ]
            for name, field in writable.items():
                expected = _wrong_type(field, data[name]) if name in data else None
                if expected is not None:
                    problems[name] = [
                        serializers.ErrorDetail(f"Expected {expected}.", code="invalid")
                    ]
            if problems:
                # The declared fields' own errors too, nested ones included, so one answer
                # lists every problem.
                try:
                    super().to_internal_value(data)
                except serializers.ValidationError as exc:
                    if isinstance(exc.detail, dict):
                        problems = {**exc.detail, **problems}
                raise serializers.ValidationError(problems)
        return super().to_internal_value(data)


_REUSED_FIELDS = threading.local()


class ReusedFieldsMixin:
    """Build a serializer's fields once per class and thread, not on every instance.

    DRF deep-copies every declared field (and a ModelSerializer introspects its model) each
    time a serializer is created: for the order capture's input and output serializers that was
    about 80 field constructions per request, the largest Python cost of a capture
    (bench/capture_profile.py, docs/performance.md). Fields hold no per-request state except
    their `parent`, so the same field objects serve every instance of the class in this thread,
    re-bound to the instance that uses them (`parent`, hence `root`, `context` and the
    SerializerMethodFields' methods). Per thread, so concurrent requests in threads never share
    one. Only for root serializers that nobody mutates the fields of, created without a context
    (with one, DRF's own per-instance fields are used)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._reuse_fields = not kwargs.get("context")
        super().__init__(*args, **kwargs)

    @cached_property
    def fields(self) -> Any:
        # Django's cached_property keeps the undecorated function as real_func.
        build = serializers.Serializer.fields.real_func  # type: ignore[attr-defined]  # see above
        if not getattr(self, "_reuse_fields", False):
            return build(self)
        cache = _REUSED_FIELDS.__dict__.setdefault("by_class", {})
        fields = cache.get(type(self))
        if fields is None:
            fields = cache[type(self)] = build(self)
        return self._bind_reused(fields)

    def _bind_reused(self, fields: Any) -> Any:
        if fields.serializer is not self:
            fields.serializer = self
            for field in fields.fields.values():
                field.parent = self
        return fields

    def run_validation(self, data: Any = empty) -> Any:
        self._bind_reused(self.fields)
        return super().run_validation(data)  # type: ignore[misc]  # mixin: super() is the serializer

    def to_representation(self, instance: Any) -> Any:
        self._bind_reused(self.fields)
        return super().to_representation(instance)  # type: ignore[misc]  # mixin: super() is the serializer


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


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_bounded_datetime(text: str) -> datetime | None:
    """`parse_datetime` that answers None for what it cannot parse instead of raising."""
    try:
        return parse_datetime(text)
    except (ValueError, OverflowError):
        return None


def is_date_only(text: str) -> bool:
    """`2026-11-20` parses as midnight (Python 3.11+), but a date-time needs its time."""
    return bool(_DATE_ONLY.match(text.strip()))


class BoundedDateTimeField(serializers.DateTimeField):
    def to_internal_value(self, value: Any) -> datetime:
        if isinstance(value, str) and is_date_only(value):
            self.fail("invalid", format="YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]")
        parsed = parse_bounded_datetime(value) if isinstance(value, str) else None
        if parsed is not None:
            problem = datetime_bound_error(parsed)
            if problem is not None:
                raise serializers.ValidationError(problem[1], code=problem[0])
        return super().to_internal_value(value)
