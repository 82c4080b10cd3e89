"""One error shape for every API failure:

    {"code": "validation_failed", "detail": "The request has 2 errors.",
     "errors": [{"code": "unknown_sku", "field": "lines[1].sku", "detail": "..."}],
     "extra": {...}}

`code` is stable and machine-readable; `detail` is for people; `errors` lists each problem with
the field path it concerns (empty when the failure is not about a field); `extra` carries
machine-readable context (`{}` when there is none). Django's own 400/403/404/500 pages answer
the same shape under /api/ (`oms/api/views.py`), so no API client ever parses an HTML page.
"""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from oms.core.errors import DomainError, FieldError
from oms.core.transactions import DATABASE_ERRORS

# Seconds a client is asked to wait when the database is unavailable (restart, failover).
DATABASE_RETRY_AFTER = 2

logger = logging.getLogger(__name__)

_DRF_CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ParseError: "malformed_json",
}


def error_body(
    code: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Always all four keys: `errors` is [] and `extra` is {} when there is nothing to say."""
    return {"code": code, "detail": detail, "errors": errors or [], "extra": extra or {}}


def domain_error_response(exc: DomainError) -> Response:
    return Response(
        error_body(exc.code, exc.detail, [e.as_dict() for e in exc.errors], exc.extra),
        status=exc.http_status,
    )


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return domain_error_response(exc)
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body("payload_too_large", str(exc)), status=413)
    if isinstance(exc, DATABASE_ERRORS):
        # The database went away (restart, failover) or a connection broke mid-request: the
        # transaction rolled back, so retrying (with the same Idempotency-Key) is safe.
        logger.warning("database unavailable: %r", exc)
        return Response(
            error_body(
                "service_unavailable",
                "The service is briefly unavailable. Retry with the same Idempotency-Key.",
            ),
            status=503,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten_validation_errors(exc.get_full_details())
        noun = "error" if len(errors) == 1 else "errors"
        return Response(
            error_body(
                "validation_failed",
                f"The request has {len(errors)} {noun}.",
                [e.as_dict() for e in errors],
            ),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, exceptions.APIException):
        code = _code_for(exc)
        headers: dict[str, str] = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]  # NotAuthenticated sets it; APIException does not declare it
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]  # Throttled's attribute; getattr checked
        return Response(
            error_body(code, _detail_text(exc.detail)), status=exc.status_code, headers=headers
        )
    return None  # a real bug: let it be a 500 and reach the logs


def _code_for(exc: exceptions.APIException) -> str:
    detail_code = getattr(exc.detail, "code", None)
    generic = {None, "error", "invalid", "parse_error", exc.default_code}
    if detail_code not in generic:
        return str(detail_code)
    for cls, code in _DRF_CODES.items():
        if isinstance(exc, cls):
            return code
    return str(exc.default_code)


def _detail_text(detail: Any) -> str:
    if isinstance(detail, list | tuple):
        return " ".join(str(d) for d in detail)
    if isinstance(detail, dict):
        return " ".join(f"{k}: {v}" for k, v in detail.items())
    return str(detail)


def flatten_validation_errors(details: Any, path: str = "") -> list[FieldError]:
    """DRF's nested {'lines': [{}, {'sku': [..]}]} → [FieldError(field='lines[1].sku')]."""
    found: list[FieldError] = []
    if isinstance(details, dict) and "message" in details and "code" in details:
        code = "invalid" if details["code"] in (None, "invalid") else str(details["code"])
        field = None if path in ("", "non_field_errors") else path
        return [FieldError(code=_friendly_code(code), detail=str(details["message"]), field=field)]
    if isinstance(details, dict):
        for key, value in details.items():
            if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
                child = f"{path}[{key}]"  # DRF keys list items by index
            elif key == "non_field_errors":
                child = path
            else:
                child = key if not path else f"{path}.{key}"
            found.extend(flatten_validation_errors(value, child))
    elif isinstance(details, list):
        is_items = any(isinstance(item, dict) and "message" not in item for item in details)
        for index, item in enumerate(details):
            if is_items:
                found.extend(flatten_validation_errors(item, f"{path}[{index}]"))
            else:
                found.extend(flatten_validation_errors(item, path))
    return found


# DRF's generic codes made specific enough for a client to branch on.
_FRIENDLY = {"required": "required", "null": "required", "blank": "required"}


def _friendly_code(code: str) -> str:
    return _FRIENDLY.get(code, code)


# The error body every endpoint answers with (documented once for the OpenAPI schema).
ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "code": {"type": "string"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "code": {"type": "string"},
                    "field": {"type": "string", "nullable": True},
                    "detail": {"type": "string"},
                },
            },
        },
        "extra": {"type": "object"},
    },
}
