"""JSON parsing that refuses oversize bodies with 413, parses floats as Decimal for money-safe
input, and applies the input limits (oms/api/input_limits.py: depth, size, NUL, surrogates)."""

import json
from decimal import Decimal
from typing import Any

from django.conf import settings
from rest_framework import exceptions
from rest_framework.parsers import JSONParser

from oms.api.input_limits import check_json_value, nesting_too_deep, refuse_constant


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class BoundedJSONParser(JSONParser):
    """Parses JSON numbers with a fraction as Decimal, never float, so `19.99` stays exact.

    Bodies above DATA_UPLOAD_MAX_MEMORY_SIZE are refused before they are read into memory.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        request = (parser_context or {}).get("request")
        declared = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        if limit and declared > limit:
            raise PayloadTooLarge(f"The request body is {declared} bytes; the limit is {limit}.")
        raw = stream.read(limit + 1) if limit else stream.read()
        if limit and len(raw) > limit:
            raise PayloadTooLarge(f"The request body is over the limit of {limit} bytes.")
        try:
            value = json.loads(
                raw.decode("utf-8"), parse_float=Decimal, parse_constant=refuse_constant
            )
        except RecursionError as exc:
            raise nesting_too_deep() from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise exceptions.ParseError(f"Malformed JSON: {exc}", code="malformed_json") from exc
        check_json_value(value)
        return value
