"""Per-area loosening of the Content Security Policy (settings.CONTENT_SECURITY_POLICY).

The store screens and everything else get the strict policy. Two areas need more, and only
those get it (docs/security.md, "Content Security Policy"):

- the admin (django-unfold): unfold ships the standard Alpine.js build, which compiles its
  `x-data`/`x-show` expressions with `new Function` ('unsafe-eval'), and its templates carry
  `style="..."` attributes ('unsafe-inline' for styles only; styles cannot run script). No
  inline <script> is allowed there either.
- the API docs page (/api/docs/): Swagger UI's files come from cdn.jsdelivr.net.
"""

from collections.abc import Callable
from typing import Any

import csp.middleware
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBase

ADMIN = {"script-src": ["'unsafe-eval'"], "style-src": ["'unsafe-inline'"]}
API_DOCS = {
    "script-src": ["https://cdn.jsdelivr.net"],
    "style-src": ["https://cdn.jsdelivr.net"],
    "img-src": ["https://cdn.jsdelivr.net"],
}


class AreaPolicyMiddleware:
    """Sits inside csp.middleware.CSPMiddleware, so it marks the response before the header is
    written."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        update = None
        if request.path.startswith("/admin/"):
            update = ADMIN
        elif request.path.startswith("/api/docs/"):
            update = API_DOCS
        if update is not None and getattr(response, "_csp_update", None) is None:
            setattr(response, "_csp_update", update)  # noqa: B010 - read by django-csp
        return response


# What a view or decorator can set on a response to change its policy (django-csp).
_PER_RESPONSE = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)
_plain_headers: dict[bool, str] = {}


@receiver(setting_changed)
def _forget_plain_headers(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _plain_headers.clear()


def _plain_header(report_only: bool) -> str:
    """The header of the settings' policy with nothing changed per response and no nonce:
    django-csp's build_policy, once per process (and settings change)."""
    header = _plain_headers.get(report_only)
    if header is None:
        header = _plain_headers[report_only] = build_policy(report_only=report_only)
    return header


class CSPMiddleware(csp.middleware.CSPMiddleware):
    """django-csp's middleware, with the header of a plain response built once per process.

    django-csp builds the policy string from the settings on every response (a tenth of a
    millisecond or more; 4 % of an availability request's CPU, bench/availability_profile.py).
    A response whose policy nothing changes (no `_csp_*` attribute from a decorator or from
    AreaPolicyMiddleware, no nonce asked for by the request, not DEBUG) gets the same header
    every time: that string is kept. Every other response goes through django-csp unchanged.
    Exemptions, excluded prefixes and a header already set are honoured as django-csp does;
    tests/security/test_csp_header.py compares both for each case.
    """

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if (
            settings.DEBUG
            or getattr(request, "_csp_nonce", None) is not None
            or any(getattr(response, name, None) is not None for name in _PER_RESPONSE)
        ):
            return super().process_response(request, response)
        for report_only, header, setting_name, exempt in (
            (False, HEADER, "CONTENT_SECURITY_POLICY", "_csp_exempt"),
            (True, HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY", "_csp_exempt_ro"),
        ):
            value = _plain_header(report_only)
            if not value or header in response or getattr(response, exempt, False) is not False:
                continue
            policy = getattr(settings, setting_name, None) or {}
            prefixes = tuple(policy.get("EXCLUDE_URL_PREFIXES", None) or ())
            if not request.path_info.startswith(prefixes):
                response[header] = value
        # As django-csp: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]  # django-csp's request attribute
        return response
