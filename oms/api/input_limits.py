"""Limits every API request meets before a view sees it (docs/api.md, "Input limits").

A JSON body is parsed, then walked once, iteratively (no recursion to exhaust):

- nesting deeper than MAX_DEPTH is `400 nesting_too_deep`. Our deepest body (an order: body ›
  lines › line) is 3 levels; 32 leaves room for any future body. Without the cap, a body of
  `[[[[...` 100,000 deep made `json.loads` raise RecursionError: a 500.
- more than MAX_ITEMS values in the whole body is `400 too_many_items`: 100,000 is twice
  a 20,000-row snapshot; every list field has its own smaller cap in its serializer.
- a NUL character (U+0000) in any string or key is `400 nul_character`: PostgreSQL text and jsonb
  cannot store it, so it would be a 500 at the first write (it was, for node feedback).
- a lone surrogate (`"\\ud800"`, legal JSON escape, not a character) is `400 invalid_unicode`:
  it cannot be encoded as UTF-8 for the database either.
- NaN and Infinity (accepted by Python's json, not JSON) are `400 malformed_json`.

`refuse_nul_in_url` does the same for the path and the query string (`%00`), for every URL of
the site: a NUL in an admin search or an API filter reached PostgreSQL as a 500 too.
"""

import json
from typing import Any

from rest_framework import exceptions

MAX_DEPTH = 32
MAX_ITEMS = 100_000

NUL = "\x00"


class InputRefused(exceptions.APIException):
    """A 400 whose code says which limit the input broke."""

    status_code = 400
    default_detail = "The request was refused."
    default_code = "invalid_input"


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def check_text(text: str, where: str) -> None:
    if NUL in text:
        raise InputRefused(
            f"{where} contains a NUL character (U+0000), which is not allowed.",
            code="nul_character",
        )
    if _has_surrogate(text):
        raise InputRefused(
            f"{where} contains a lone UTF-16 surrogate, which is not a character.",
            code="invalid_unicode",
        )


def check_json_value(value: Any) -> None:
    """Depth, size and characters of a parsed JSON document, walked without recursion."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    seen = 0
    while stack:
        node, depth = stack.pop()
        seen += 1
        if seen > MAX_ITEMS:
            raise InputRefused(
                f"The body holds more than {MAX_ITEMS} values.", code="too_many_items"
            )
        if isinstance(node, str):
            check_text(node, "A string in the body")
        elif isinstance(node, dict | list):
            if depth > MAX_DEPTH:
                raise InputRefused(
                    f"The body is nested more than {MAX_DEPTH} levels deep.",
                    code="nesting_too_deep",
                )
            if isinstance(node, dict):
                for key, child in node.items():
                    check_text(key, "A key in the body")
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in node)


def check_raw_json(raw: bytes) -> None:
    """The same limits for a view that reads its raw body itself (signed webhooks, whose
    signature covers the exact bytes). A body that is not JSON is left to the view's own
    parser and its own error code."""
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=refuse_constant)
    except RecursionError as exc:
        raise nesting_too_deep() from exc
    except (ValueError, UnicodeDecodeError):
        return
    check_json_value(value)


def nesting_too_deep() -> InputRefused:
    return InputRefused(
        f"The body is nested more than {MAX_DEPTH} levels deep.", code="nesting_too_deep"
    )


def refuse_constant(name: str) -> Any:
    """json.loads' parse_constant: NaN, Infinity and -Infinity are not JSON."""
    raise ValueError(f"{name} is not a JSON value")
