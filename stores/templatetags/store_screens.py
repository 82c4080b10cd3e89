"""Small presentation helpers for the store screens: short ages ("2 h ago"), due labels,
status badges and delivery kinds, in the store's own time zone."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from fulfillment.models import FulfillmentOrder, FulfillmentStatus
from inventory.models import Node

register = template.Library()

S = FulfillmentStatus
SOON = timedelta(hours=2)
DAY = timedelta(hours=24)

STATUS_BADGES = {
    S.RELEASED: ("New", "info"),
    S.ACCEPTED: ("Accepted", "info"),
    S.PICKING: ("Picking", "warn"),
    S.PACKED: ("Packed", "accent"),
    S.READY_FOR_PICKUP: ("Ready for pickup", "ok"),
    S.SHIPPED: ("Shipped", "done"),
    S.DELIVERED: ("Delivered", "done"),
    S.PICKED_UP: ("Picked up", "done"),
    S.REJECTED: ("Rejected", "danger"),
    S.CANCELLED: ("Cancelled", "muted"),
    S.EXPIRED: ("Expired", "muted"),
}
KINDS = {"pickup": "Pickup", "curbside": "Curbside", "ship": "Ship"}


def span(delta: timedelta) -> str:
    """A short duration: '45 min', '3 h', '2 d'."""
    minutes = int(abs(delta).total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 1)} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h"
    return f"{hours // 24} d"


@register.filter
def ago(value: datetime | None) -> str:
    if value is None:
        return ""
    delta = timezone.now() - value
    if delta < timedelta(minutes=1):
        return "just now"
    return f"{span(delta)} ago"


def _zone(node: Node) -> ZoneInfo:
    try:
        return ZoneInfo(node.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@register.filter
def store_time(value: datetime | None, node: Node) -> str:
    """The time on the store's clock: '4:30 PM' today, 'Tue 4:30 PM' within the week, else
    'Nov 30, 4:30 PM'."""
    if value is None:
        return ""
    zone = _zone(node)
    local = value.astimezone(zone)
    clock = local.strftime("%I:%M %p").lstrip("0")
    days = abs((local.date() - timezone.now().astimezone(zone).date()).days)
    if days == 0:
        return clock
    if days < 7:
        return f"{local:%a} {clock}"
    return f"{local:%b} {local.day}, {clock}"


@register.simple_tag
def due(fo: FulfillmentOrder) -> SafeString:
    """When the store must be done: the pickup deadline of a ready order, else its ship-by.
    Relative within a day ('Due in 3 h', 'Overdue 1 h'), else the store's clock."""
    now = timezone.now()
    if fo.status == S.READY_FOR_PICKUP and fo.pickup_expires_at:
        deadline, verb = fo.pickup_expires_at, "Collect by"
    elif fo.ship_by:
        deadline, verb = fo.ship_by, "Due"
    else:
        return format_html("")
    left = deadline - now
    when = store_time(deadline, fo.node)
    if left < timedelta(0):
        text, tone = f"Overdue {span(left)}", "late"
    elif left < DAY and verb == "Due":
        text, tone = f"Due in {span(left)}", "soon" if left < SOON else ""
    else:
        text, tone = f"{verb} {when}", ""
    return format_html('<span class="due {}" title="{} {}">{}</span>', tone, verb, when, text)


@register.simple_tag
def status_badge(fo: FulfillmentOrder) -> SafeString:
    label, tone = STATUS_BADGES.get(fo.status, (fo.get_status_display(), "muted"))
    return format_html('<span class="badge badge-{}">{}</span>', tone, label)


@register.simple_tag
def kind_badge(fo: FulfillmentOrder) -> SafeString:
    kind = fo.delivery_method
    return format_html(
        '<span class="kind kind-{}">{}</span>', kind, KINDS.get(kind, kind.title() or "—")
    )
