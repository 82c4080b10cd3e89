"""JSON answers rendered by the view itself, for hot read paths (docs/adr/0010).

A view may hand DRF a `PreRenderedJSON` instead of a dict: an object that writes the bytes
`JSONRenderer` would have written for its data (compact, UTF-8, strict, U+2028/U+2029
escaped), and can still give that data as plain Python for every other case (an `indent` asked
for in the Accept header). `FastJSONRenderer` is `JSONRenderer` for everything else (error
answers are dicts), so content negotiation, the media type and the schema do not change.
"""

from abc import ABC, abstractmethod
from collections.abc import Mapping
from json.encoder import encode_basestring  # the C function json.dumps uses
from typing import Any

from rest_framework.renderers import JSONRenderer

_NOT_FINITE = (float("inf"), float("-inf"))


class PreRenderedJSON(ABC):
    @abstractmethod
    def render(self) -> str:
        """The compact JSON of `as_data()`, as `json.dumps(..., ensure_ascii=False,
        allow_nan=False, separators=(",", ":"))` writes it (helpers below)."""

    @abstractmethod
    def as_data(self) -> Any:
        """The same answer as dicts, lists and scalars."""


def json_str(value: str) -> str:
    """A JSON string as json.dumps(ensure_ascii=False) writes it (the C encoder json uses)."""
    return encode_basestring(value)


def json_float(value: float) -> str:
    """A float as json.dumps(allow_nan=False) writes it: repr, and no NaN or infinity."""
    value = float(value)
    if value != value or value in _NOT_FINITE:
        raise ValueError(f"Out of range float values are not JSON compliant: {value!r}")
    return float.__repr__(value)


def json_bool(value: bool) -> str:
    return "true" if value else "false"


class FastJSONRenderer(JSONRenderer):
    """JSONRenderer that writes a PreRenderedJSON's own bytes when the answer is compact."""

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if isinstance(data, PreRenderedJSON):
            compact = (
                self.compact
                and self.strict
                and not self.ensure_ascii
                and self.get_indent(accepted_media_type or "", renderer_context or {}) is None
            )
            if not compact:
                return super().render(data.as_data(), accepted_media_type, renderer_context)
            text = data.render()
            # As JSONRenderer does: JSON that is also a strict JavaScript subset.
            return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()
        return super().render(data, accepted_media_type, renderer_context)
