"""Small presentation helpers shared by the routing admin pages."""

from datetime import datetime, timedelta

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe


def percent(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.1f}%"


def period_words(start: datetime, end: datetime) -> str:
    """Whole days read as dates, last day included ([1 Oct 00:00, 1 Nov 00:00) is
    "2026-10-01 to 2026-10-31"); anything else as date and time."""
    start, end = timezone.localtime(start), timezone.localtime(end)
    if start.time() == end.time() == datetime.min.time() and end > start:
        days = (end - start).days
        last = end - timedelta(days=1)
        return f"{start:%Y-%m-%d} to {last:%Y-%m-%d} ({days} day{'s' if days != 1 else ''})"
    return f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}"


def label_html(text: str, colour: str = "") -> SafeString:
    """unfold's coloured label, for read-only fields on a change page (a `@display(label=...)`
    column renders only in the change list)."""
    html = render_to_string("unfold/helpers/label.html", {"text": text, "type": colour})
    return mark_safe(html.strip())  # noqa: S308 - rendered by a template, autoescaped
