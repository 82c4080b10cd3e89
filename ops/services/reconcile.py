"""Resolving the cases whose condition has cleared (the first step of every detector run).

For each open case (open or in progress) of a kind listed in CHECKS, its check answers why the
condition no longer holds (the resolution note), or None while it still does. A case that
looks cleared is then locked (the order first, then the case, `lock_case()`), checked again
under the lock, and resolved by the system through `resolve_cleared_case()` (remedy
`condition_cleared`, `exception.resolved` in the same transaction). Cases a person is working
on are resolved too, and the note says so. Running it again changes nothing: resolved cases are
no longer open.

What "cleared" means per kind is the table in docs/exceptions.md ("Closing automatically").

Not checked (people resolve them): lost_parcel, damaged, and integration_failed raised when a
fulfillment order changed while it was being sent.
"""

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, Max, OuterRef
from django.utils import timezone

from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine, FulfillmentStatus
from fulfillment.models.fulfillment_orders import AT_NODE_STATUSES
from integrations.models import InboundMessage, InboundStatus
from inventory.models import Node, NodeReconciliation, Oversell, OversellStatus, StockLevel
from inventory.selectors import skus_awaiting_count
from oms.core.models import RuleSetStatus
from ops.locks import lock_case
from ops.models import (
    OPEN_CASE_STATUSES,
    ExceptionCase,
    ExceptionKind,
    ExceptionRuleSet,
    SubjectType,
)
from ops.rule_schema import threshold_errors
from ops.selectors import current_thresholds
from ops.services.cases import (
    CHANGED_WHILE_RELEASING,
    hold_release_note,
    payment_still_failed,
    resolve_cleared_case,
)
from orders.models import (
    Hold,
    HoldStatus,
    LineStatus,
    Order,
    OrderLine,
    OrderStatus,
    PaymentStatus,
    PaymentTransaction,
    TransactionStatus,
)

WAITING_FOR_ROUTING = (LineStatus.OPEN, LineStatus.BACKORDERED)
ORDER_PROGRESS = list(OrderStatus.values)
FULFILLMENT_OUTCOMES = {
    FulfillmentStatus.SHIPPED: "Fulfillment shipped",
    FulfillmentStatus.DELIVERED: "Fulfillment delivered",
    FulfillmentStatus.PICKED_UP: "Fulfillment picked up",
    FulfillmentStatus.CANCELLED: "Fulfillment cancelled",
    FulfillmentStatus.REJECTED: "Fulfillment rejected by the node",
    FulfillmentStatus.EXPIRED: "Fulfillment expired (not collected)",
}

Check = Callable[[ExceptionCase, datetime], str | None]


def reconcile_open_cases(
    *, now: datetime | None = None, kinds: Iterable[str] | None = None
) -> list[int]:
    """Resolve every open case (of `kinds`, default every checked kind) whose condition has
    cleared; returns their ids."""
    now = now or timezone.now()
    checked = [kind for kind in CHECKS if kinds is None or kind in set(kinds)]
    candidates = (
        ExceptionCase.objects.filter(status__in=OPEN_CASE_STATUSES, kind__in=checked)
        .select_related("order")
        .order_by("id")
    )
    resolved = []
    for candidate in candidates:
        if why_cleared(candidate, now) is None:
            continue
        with transaction.atomic():
            case = lock_case(candidate.pk)
            reason = why_cleared(case, now) if case.is_open else None
            if reason is None:
                continue  # resolved by someone meanwhile, or the condition came back
            resolve_cleared_case(case, reason=reason)
        resolved.append(case.pk)
    return resolved


def why_cleared(case: ExceptionCase, now: datetime) -> str | None:
    """Why the case's condition no longer holds (its resolution note), or None."""
    check = CHECKS.get(case.kind)
    return check(case, now) if check is not None else None


# --- checks, one per kind ---------------------------------------------------------------------


def _closed(order: Order) -> str | None:
    return {
        OrderStatus.CANCELLED: "Order cancelled",
        OrderStatus.COMPLETED: "Order completed",
    }.get(order.status)


def _stuck_order(case: ExceptionCase, now: datetime) -> str | None:
    order = case.order
    if order is None:
        return None
    if closed := _closed(order):
        return closed
    stuck_in = case.details.get("status")
    if stuck_in:  # raised by the detector: stuck in that status
        if order.status == stuck_in:
            return None
        moved = (
            "progressed"
            if stuck_in in ORDER_PROGRESS
            and ORDER_PROGRESS.index(order.status) > ORDER_PROGRESS.index(stuck_in)
            else "moved"
        )
        return f"Order {moved} to {order.status} (was {stuck_in})"
    # raised by routing (unroutable): cleared once nothing waits to be routed
    statuses = set(OrderLine.objects.filter(order_id=order.pk).values_list("status", flat=True))
    if statuses & set(WAITING_FOR_ROUTING):
        return None
    return "All lines cancelled" if statuses <= {LineStatus.CANCELLED} else "Order routed"


def _fulfillment(case: ExceptionCase) -> FulfillmentOrder | None:
    if case.subject_type != SubjectType.FULFILLMENT:
        return None
    return FulfillmentOrder.objects.select_related("node").filter(pk=case.subject_id).first()


def _late_shipment(case: ExceptionCase, now: datetime) -> str | None:
    fo = _fulfillment(case)
    if fo is None or fo.status in AT_NODE_STATUSES or fo.status == FulfillmentStatus.PENDING:
        return None
    return FULFILLMENT_OUTCOMES.get(fo.status, f"Fulfillment {fo.get_status_display().lower()}")


def _backorder_aged(case: ExceptionCase, now: datetime) -> str | None:
    order = case.order
    if order is None:
        return None
    if closed := _closed(order):
        return closed
    lines = list(OrderLine.objects.filter(order_id=order.pk).values_list("status", "updated_at"))
    if any(status == LineStatus.BACKORDERED for status, _ in lines):
        return None
    if all(status == LineStatus.CANCELLED for status, _ in lines):
        return "Backordered lines cancelled"
    if any(status == LineStatus.CANCELLED and at >= case.raised_at for status, at in lines):
        return "Nothing backordered any more (allocated or cancelled)"
    return "Backorder allocated"


def _hold_case(case: ExceptionCase, now: datetime) -> str | None:
    order = case.order
    if order is None:
        return None
    if case.details.get("operation") == "refund":
        return _refund_retried(case)
    if order.status == OrderStatus.CANCELLED:
        return "Order cancelled"
    if payment_still_failed(case, order):
        return None
    hold_id = case.details.get("hold_id")
    if not hold_id:
        if case.kind != ExceptionKind.PAYMENT_FAILED:
            return None
        if order.payment_status == PaymentStatus.PAID:
            return "Payment captured"
        return f"Payment is {order.get_payment_status_display().lower()} now"
    hold = Hold.objects.filter(pk=hold_id, order_id=order.pk).first()
    if hold is None or hold.status == HoldStatus.ACTIVE:
        return None
    return hold_release_note(hold)


def _refund_retried(case: ExceptionCase) -> str | None:
    """A failed refund's case (order.refund_failed) closes once a retry with the same
    idempotency key succeeded: the customer got the money."""
    failed = PaymentTransaction.objects.filter(pk=case.details.get("transaction")).first()
    if failed is None:
        return None
    if PaymentTransaction.objects.filter(
        idempotency_key=failed.idempotency_key, status=TransactionStatus.SUCCEEDED
    ).exists():
        return "Refund retried and succeeded"
    return None


def _integration_failed(case: ExceptionCase, now: datetime) -> str | None:
    if case.subject_type == SubjectType.NODE:
        return _stale_feed(case, now)
    if case.subject_type == SubjectType.MESSAGE:
        processed = InboundMessage.objects.filter(
            pk=case.subject_id, status=InboundStatus.PROCESSED
        ).exists()
        return "Message processed" if processed else None
    if case.details.get("reason") == CHANGED_WHILE_RELEASING:
        return None
    fo = _fulfillment(case)
    if fo is None or fo.status == FulfillmentStatus.PENDING:
        return None
    if fo.status == FulfillmentStatus.CANCELLED:
        return "Fulfillment cancelled"
    return f"Fulfillment released to {fo.node.code}"


def _stale_feed(case: ExceptionCase, now: datetime) -> str | None:
    if "threshold_hours" not in case.details:
        return None  # not raised by the stale-feed detector
    node = (
        Node.objects.filter(pk=case.subject_id)
        .annotate(
            last_report=Max("stock_levels__last_reported_at"),
            stocked=Exists(StockLevel.objects.filter(node=OuterRef("pk"), on_hand__gt=0)),
        )
        .first()
    )
    if node is None:
        return None
    if not node.is_active:
        return f"Node {node.code} deactivated"
    if not node.stocked:
        return f"{node.code} holds no stock any more"
    hours = int(current_thresholds()["feed_stale_hours"])
    if node.last_report is None or node.last_report < now - timedelta(hours=hours):
        return None
    return (
        f"Inventory feed received from {node.code} "
        f"(counts as of {node.last_report:%Y-%m-%d %H:%M} UTC)"
    )


def _oversell(case: ExceptionCase, now: datetime) -> str | None:
    if case.subject_type != SubjectType.NODE:
        return None
    if Oversell.objects.filter(node_id=case.subject_id, status=OversellStatus.OPEN).exists():
        return None
    return f"Oversells at {case.subject_label} resolved"


def _cycle_count(case: ExceptionCase, now: datetime) -> str | None:
    if case.subject_type != SubjectType.NODE:
        return None
    if skus_awaiting_count(case.subject_id):
        return None
    return f"Counted: every short SKU at {case.subject_label} was counted since"


def _inventory_variance(case: ExceptionCase, now: datetime) -> str | None:
    """Raised by an inventory reconciliation (details.reconciliation); cleared when a later
    reconciliation of the node finds no pair over the case thresholds (the drift was fixed:
    a snapshot feed set oms's count, or the node's own count came right)."""
    if case.subject_type != SubjectType.NODE:
        return None
    raised_by = int(case.details.get("reconciliation") or 0)
    latest = (
        NodeReconciliation.objects.filter(node_id=case.subject_id)
        .order_by("-reconciled_at", "-id")
        .first()
    )
    if latest is None or latest.reconciliation_id <= raised_by or latest.over_threshold:
        return None
    return (
        f"Reconciliation #{latest.reconciliation_id}: {case.subject_label} within thresholds "
        f"({latest.within_tolerance} of {latest.pairs} SKUs within tolerance)"
    )


def _routed_again(what: str) -> Check:
    def check(case: ExceptionCase, now: datetime) -> str | None:
        order = case.order
        if order is None or case.subject_type != SubjectType.FULFILLMENT:
            return None
        if closed := _closed(order):
            return closed
        line_ids = FulfillmentOrderLine.objects.filter(fulfillment_id=case.subject_id).values(
            "order_line_id"
        )
        statuses = set(OrderLine.objects.filter(pk__in=line_ids).values_list("status", flat=True))
        if not statuses or statuses & set(WAITING_FOR_ROUTING):
            return None
        if statuses == {LineStatus.CANCELLED}:
            return "Lines cancelled"
        return f"{what} routed again"

    return check


def _config_invalid(case: ExceptionCase, now: datetime) -> str | None:
    """Cleared when the rule set is no longer the active one, or its thresholds now pass."""
    if case.subject_type != SubjectType.RULE_SET:
        return None
    rule_set = ExceptionRuleSet.objects.filter(pk=case.subject_id).first()
    if rule_set is None or rule_set.status != RuleSetStatus.ACTIVE:
        return "The rule set is no longer active"
    if not threshold_errors(rule_set.thresholds):
        return "The rule set's thresholds are valid"
    return None


CHECKS: dict[str, Check] = {
    ExceptionKind.CONFIG_INVALID: _config_invalid,
    ExceptionKind.STUCK_ORDER: _stuck_order,
    ExceptionKind.LATE_SHIPMENT: _late_shipment,
    ExceptionKind.BACKORDER_AGED: _backorder_aged,
    ExceptionKind.FRAUD_HOLD: _hold_case,
    ExceptionKind.ADDRESS_INVALID: _hold_case,
    ExceptionKind.PAYMENT_FAILED: _hold_case,
    ExceptionKind.INTEGRATION_FAILED: _integration_failed,
    ExceptionKind.OVERSELL: _oversell,
    ExceptionKind.CYCLE_COUNT: _cycle_count,
    ExceptionKind.INVENTORY_VARIANCE: _inventory_variance,
    ExceptionKind.NODE_REJECTED: _routed_again("Rejected lines"),
    ExceptionKind.SHORT_PICK: _routed_again("Short quantities"),
}


def resolve_retried_refund_cases(*, order: Order) -> list[int]:
    """`order.payment_refunded` (same transaction, the order locked by the payments service): a
    failed refund's case closes as soon as a retry with its key succeeded (from the return
    page, the order page or the API), not at the next detector run. The check is the
    detectors' own (`_refund_retried`); a case still failing on another key stays open."""
    resolved = []
    for case_id in (
        ExceptionCase.objects.filter(
            kind=ExceptionKind.PAYMENT_FAILED,
            order_id=order.pk,
            status__in=OPEN_CASE_STATUSES,
            details__operation="refund",
        )
        .order_by("id")
        .values_list("pk", flat=True)
    ):
        case = lock_case(case_id)
        reason = why_cleared(case, timezone.now()) if case.is_open else None
        if reason is not None:
            resolve_cleared_case(case, reason=reason)
            resolved.append(case.pk)
    return resolved
