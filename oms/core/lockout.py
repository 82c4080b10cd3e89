"""The page a locked-out sign-in gets (django-axes, AXES_LOCKOUT_CALLABLE): readable, in the
look of the screen it came from, saying how long to wait and who can unlock it. The store
screens' login gets the store page; everything else (the admin) gets the admin's."""

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cooloff_minutes": minutes,
        "username": (credentials or {}).get("username", ""),
    }
    if request.path.startswith("/store/"):
        template = "stores/locked_out.html"
    else:
        template = "admin/locked_out.html"
        context.update(admin.site.each_context(request))
    response = render(request, template, context, status=settings.AXES_HTTP_RESPONSE_CODE)
    response["Retry-After"] = str(minutes * 60)
    return response
