"""A case's `details` (a detector's JSON) for people: one row per key with a readable label;
a list of records becomes a small table, other lists a comma-separated line."""

from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import capfirst

EMPTY = "-"
MAX_ROWS = 20


ACRONYMS = {"sku": "SKU", "skus": "SKUs", "id": "ID", "sla": "SLA", "rma": "RMA"}


def _label(key: str) -> str:
    words = [ACRONYMS.get(word, word) for word in str(key).split("_")]
    return capfirst(" ".join(words))


def _scalar(value: Any) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{_label(k)}: {_scalar(v)}" for k, v in value.items()) or EMPTY
    if isinstance(value, list):
        return ", ".join(_scalar(v) for v in value) or EMPTY
    return str(value)


def _records(rows: list[dict[str, Any]]) -> SafeString:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    head = format_html_join(
        "", '<th class="px-2 py-1 text-left">{}</th>', ((_label(c),) for c in columns)
    )
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        (
            (
                format_html_join(
                    "", '<td class="px-2 py-1">{}</td>', ((_scalar(row.get(c)),) for c in columns)
                ),
            )
            for row in rows[:MAX_ROWS]
        ),
    )
    more = (
        format_html('<p class="text-xs">and {} more</p>', len(rows) - MAX_ROWS)
        if len(rows) > MAX_ROWS
        else ""
    )
    return format_html(
        '<table class="text-sm"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>{}',
        head,
        body,
        more,
    )


def render_details(details: Any) -> SafeString | str:
    if not details:
        return EMPTY
    if not isinstance(details, dict):
        return _scalar(details)
    rows = []
    for key, value in details.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            rendered: SafeString | str = _records(value)
        else:
            rendered = _scalar(value)
        rows.append((_label(key), rendered))
    return format_html(
        '<dl class="grid" style="{}">{}</dl>',
        "grid-template-columns: max-content 1fr; gap: 0.25rem 1rem",
        format_html_join("", '<dt class="font-medium">{}</dt><dd>{}</dd>', rows),
    )


__all__ = ["render_details"]
