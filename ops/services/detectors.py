"""Detectors run by Celery beat (ops/tasks.py): each finds what is overdue and raises a
case per subject through raise_exception_case(), which keeps one open case per (kind, subject),
so running them again changes nothing but `last_seen_at`/`occurrences`. Thresholds come from
ops.selectors.current_thresholds() (settings, overridden by the active exception rule set).
Each run first resolves the cases whose condition cleared (ops/services/reconcile.py).
"""

from datetime import datetime, timedelta

from django.db.models import Exists, F, Max, Min, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Concat
from django.utils import timezone

from fulfillment.models import FulfillmentOrder
from fulfillment.models.fulfillment_orders import AT_NODE_STATUSES
from inventory.models import Node, StockLevel
from oms.events.models import Event
from ops.models import ExceptionKind
from ops.rule_schema import threshold_errors
from ops.selectors import active_exception_rule_set, current_thresholds
from ops.services.cases import raise_exception_case
from ops.services.reconcile import reconcile_open_cases
from orders.models import LineStatus, Order, OrderLine
from orders.ownership import OrderOwner
from orders.selectors import active_hold_exists


def detect_stuck_orders(*, now: datetime | None = None) -> list[int]:
    """Orders without progress (no event on their stream, no change of the row) for longer
    than the threshold of their status; held orders are someone's work already."""
    now = now or timezone.now()
    last_event = (
        Event.objects.filter(stream=Concat(Value("order:"), OuterRef("number")))
        .order_by()
        .values("stream")
        .annotate(last=Max("occurred_at"))
        .values("last")
    )
    raised = []
    for status, minutes in sorted(current_thresholds()["stuck_minutes"].items()):
        cutoff = now - timedelta(minutes=int(minutes))
        stuck = (
            # The legacy system's orders (cutover plan) are not oms's to move.
            Order.objects.filter(status=status, owner=OrderOwner.OMS, updated_at__lt=cutoff)
            .annotate(last_event=Coalesce(Subquery(last_event), F("updated_at")))
            .filter(last_event__lt=cutoff)
            .exclude(active_hold_exists())
            .order_by("id")
        )
        for order in stuck:
            idle = int((now - order.last_event).total_seconds() // 60)
            case = raise_exception_case(
                kind="stuck_order",
                order=order,
                summary=f"No progress for {idle} min while {status}",
                details={"status": status, "idle_minutes": idle, "threshold_minutes": minutes},
            )
            raised.append(case.pk)
    return raised


def detect_late_fulfillments(*, now: datetime | None = None) -> list[int]:
    """Fulfillment orders at a node and past their ship-by time."""
    now = now or timezone.now()
    late = (
        FulfillmentOrder.objects.filter(status__in=AT_NODE_STATUSES, ship_by__lt=now)
        .select_related("node")
        .order_by("id")
    )
    raised = []
    for fo in late:
        case = raise_exception_case(
            kind="late_shipment",
            fulfillment=fo,
            summary=f"{fo.number} was due to ship by {fo.ship_by:%Y-%m-%d %H:%M} UTC",
            details={"ship_by": fo.ship_by, "status": fo.status, "node": fo.node.code},
        )
        raised.append(case.pk)
    return raised


def detect_aged_backorders(*, now: datetime | None = None) -> list[int]:
    """Orders with a backordered line whose first `order.backordered` is older than N days."""
    now = now or timezone.now()
    days = int(current_thresholds()["backorder_days"])
    first_backordered = (
        Event.objects.filter(
            stream=Concat(Value("order:"), OuterRef("number")), type="order.backordered"
        )
        .order_by()
        .values("stream")
        .annotate(first=Min("occurred_at"))
        .values("first")
    )
    waiting = OrderLine.objects.filter(order=OuterRef("pk"), status=LineStatus.BACKORDERED)
    aged = (
        Order.objects.filter(Exists(waiting))
        .annotate(since=Coalesce(Subquery(first_backordered), F("placed_at")))
        .filter(since__lt=now - timedelta(days=days))
        .order_by("id")
    )
    raised = []
    for order in aged:
        age = (now - order.since).days
        case = raise_exception_case(
            kind="backorder_aged",
            order=order,
            summary=f"Backordered for {age} days",
            details={"backordered_since": order.since, "age_days": age, "threshold_days": days},
        )
        raised.append(case.pk)
    return raised


def detect_stale_feeds(*, now: datetime | None = None) -> list[int]:
    """Active nodes holding stock whose last inventory report is older than N hours."""
    now = now or timezone.now()
    hours = int(current_thresholds()["feed_stale_hours"])
    cutoff = now - timedelta(hours=hours)
    stocked = StockLevel.objects.filter(node=OuterRef("pk"), on_hand__gt=0)
    nodes = (
        Node.objects.filter(is_active=True)
        .filter(Exists(stocked))
        .annotate(last_report=Max("stock_levels__last_reported_at"))
        .filter(Q(last_report__lt=cutoff) | Q(last_report__isnull=True))
        .order_by("id")
    )
    raised = []
    for node in nodes:
        case = raise_exception_case(
            kind="integration_failed",
            node=node,
            summary=f"No inventory feed from {node.code} for over {hours} h",
            details={"last_reported_at": node.last_report, "threshold_hours": hours},
        )
        raised.append(case.pk)
    return raised


def check_active_config() -> list[int]:
    """A detector never crashes on configuration: an active rule set whose thresholds fail the
    schema (ops/rule_schema.py) opens a config_invalid case about it, and the detectors run on
    the default thresholds (ops.selectors.current_thresholds) until a valid set is approved."""
    rule_set = active_exception_rule_set()
    errors = threshold_errors(rule_set.thresholds) if rule_set is not None else []
    if rule_set is None or not errors:
        return []
    case = raise_exception_case(
        kind=ExceptionKind.CONFIG_INVALID,
        rule_set=rule_set,
        summary=f"{rule_set}: invalid thresholds, defaults in use. {' '.join(errors)}",
        details={"errors": errors, "thresholds": rule_set.thresholds},
    )
    return [case.pk]


def run_detectors(*, now: datetime | None = None) -> dict[str, int]:
    """Reconcile first (resolve the cases whose condition cleared), then detect: a condition
    that cleared and came back in another form (an order stuck in its next status) opens a
    new case instead of refreshing the old one."""
    return {
        "config_invalid": len(check_active_config()),
        "resolved": len(reconcile_open_cases(now=now)),
        "stuck_orders": len(detect_stuck_orders(now=now)),
        "late_fulfillments": len(detect_late_fulfillments(now=now)),
        "aged_backorders": len(detect_aged_backorders(now=now)),
        "stale_feeds": len(detect_stale_feeds(now=now)),
    }
