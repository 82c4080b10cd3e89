"""DRF's content negotiation, its answer remembered per Accept header.

`DefaultContentNegotiation.select_renderer()` parses the Accept header into media types and
matches them against the view's renderers on every request: 2 % of a capture's CPU in the web
worker. Its answer depends only on the header and the renderers' media types, and clients send
a handful of distinct headers (`application/json`, `*/*`, none), so the answer is kept per
(header, renderer classes): which renderer, by position, and the media type. A `?format=` or a
format suffix, an answer it refuses (406) and headers past the cache's bound go the whole way
every time, so what is chosen, and every error, is DRF's own.
"""

from collections.abc import Iterable, Sequence

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

_MAX_REMEMBERED = 256
_chosen: dict[tuple[str, tuple[type, ...]], tuple[int, str]] = {}


class RememberingContentNegotiation(DefaultContentNegotiation):
    def select_renderer(
        self,
        request: Request,
        renderers: Iterable[BaseRenderer],
        format_suffix: str | None = None,
    ) -> tuple[BaseRenderer, str]:
        renderers = renderers if isinstance(renderers, list) else list(renderers)
        if format_suffix or self.settings.URL_FORMAT_OVERRIDE in request.query_params:
            return super().select_renderer(request, renderers, format_suffix)
        key = (request.META.get("HTTP_ACCEPT", "*/*"), tuple(type(r) for r in renderers))
        chosen = _chosen.get(key)
        if chosen is None:
            renderer, media_type = super().select_renderer(request, renderers, format_suffix)
            chosen = (_position(renderers, renderer), media_type)
            if len(_chosen) < _MAX_REMEMBERED:
                _chosen[key] = chosen
        position, media_type = chosen
        return renderers[position], media_type


def _position(renderers: Sequence[BaseRenderer], renderer: BaseRenderer) -> int:
    return next(i for i, candidate in enumerate(renderers) if candidate is renderer)
