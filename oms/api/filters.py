"""django-filter pieces with the API's input limits (docs/api.md, "Input limits")."""

from typing import Any

import django_filters  # type: ignore[import-untyped]  # django-filter ships no types
from django import forms
from django_filters.fields import IsoDateTimeField  # type: ignore[import-untyped]  # no types

from oms.api.serializers import datetime_bound_error, is_date_only, parse_bounded_datetime


class BoundedIsoDateTimeField(IsoDateTimeField):
    """ISO 8601 with a UTC offset within ±14:00 and a year between 1970 and 2099: `+20:00` in
    `placed_after` reached PostgreSQL (a 500), year 0001 overflowed on conversion to UTC."""

    def to_python(self, value: Any) -> Any:
        if value == "" or (isinstance(value, str) and is_date_only(value)):
            # `?placed_after=` with no value is a mistake, not "no filter"
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if isinstance(value, str):
            parsed = parse_bounded_datetime(value.strip())
            problem = datetime_bound_error(parsed) if parsed is not None else None
            if problem is not None:
                raise forms.ValidationError(problem[1], code=problem[0])
        return super().to_python(value)


class BoundedIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = BoundedIsoDateTimeField
