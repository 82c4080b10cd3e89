"""Which remedy fits which exception case (pure Python, no queries of its own): by the case's
kind, then by its state and its order's. The console offers only these (ops/admin/cases.py),
and the parcel remedies refuse a case of another kind (ops/services/remedies.py).

"Mark lost (reship)" on a short pick of a delivered order resolved that case and asked for a
reship nobody needed; a remedy now has to fit the kind of problem before it is even shown.
"""

from typing import Any

from ops.models import OPEN_CASE_STATUSES, ExceptionKind, SubjectType

K = ExceptionKind

# kind → the remedies that can settle it (assign, resolve and dismiss fit every open case).
REMEDIES_BY_KIND: dict[str, tuple[str, ...]] = {
    K.OVERSELL: ("reroute", "cancel_lines"),
    K.PAYMENT_FAILED: ("release_hold", "cancel_lines"),
    K.FRAUD_HOLD: ("release_hold", "cancel_lines"),
    K.ADDRESS_INVALID: ("release_hold", "cancel_lines"),
    K.NODE_REJECTED: ("reroute", "retry", "cancel_lines"),
    K.SHORT_PICK: ("reroute", "cancel_lines"),
    K.BACKORDER_AGED: ("reroute", "cancel_lines"),
    K.LATE_SHIPMENT: ("retry", "reroute", "mark_lost", "mark_damaged"),
    K.LOST_PARCEL: ("mark_lost",),
    K.DAMAGED: ("mark_damaged",),
    K.INTEGRATION_FAILED: ("retry", "reprocess"),
    K.STUCK_ORDER: ("reroute", "retry", "release_hold"),
    K.CYCLE_COUNT: (),
    K.INVENTORY_VARIANCE: (),
    K.ORDER_STATUS_MISMATCH: (),
    K.PICKUP_LOCKED: ("unlock_pickup",),
}
ALWAYS = ("assign_to_me", "resolve", "dismiss")
# Safe to run on many cases at once: they change no order in a way a person must look at first
# (closing a case without a remedy, routing what is unrouted, resending to a node). Releasing
# holds, cancelling lines, parcel outcomes and pickup unlocks are one case at a time.
SAFE_IN_BULK = ("assign_to_me", "reroute", "retry", "reprocess", "resolve", "dismiss")
PARCEL_KINDS = {
    "lost": (K.LOST_PARCEL, K.LATE_SHIPMENT),
    "damaged": (K.DAMAGED, K.LATE_SHIPMENT),
}

OPEN_ORDER = ("created", "backordered", "allocated", "released", "partially_shipped")
SHIPPED_OR_LATER = ("shipped", "partially_shipped")
CANCELLABLE_LINES = ("open", "backordered", "allocated")


def fits(name: str, case: Any, *, user: Any = None) -> bool:
    """Whether remedy `name` is offered for `case` now. `case.order` (or None) is read; its
    holds and lines are asked with one EXISTS each, only for the remedies that need them."""
    if case.status not in OPEN_CASE_STATUSES:
        return False
    if name in ALWAYS:
        return not (name == "assign_to_me" and user is not None and case.assignee_id == user.pk)
    if name not in REMEDIES_BY_KIND.get(case.kind, ()):
        return False
    order = case.order if case.order_id else None
    match name:
        case "reroute":
            return order is not None and order.status in OPEN_ORDER
        case "retry":
            return case.subject_type in (SubjectType.FULFILLMENT, SubjectType.MESSAGE)
        case "reprocess":
            return case.subject_type == SubjectType.MESSAGE
        case "release_hold":
            return order is not None and order.holds.filter(status="active").exists()
        case "cancel_lines":
            return order is not None and order.lines.filter(status__in=CANCELLABLE_LINES).exists()
        case "mark_lost":
            return order is not None and order.status in SHIPPED_OR_LATER
        case "mark_damaged":
            return order is not None
        case "unlock_pickup":
            return case.subject_type == SubjectType.FULFILLMENT
    return True


def offered(case: Any, *, user: Any = None) -> list[str]:
    names = [*ALWAYS, *REMEDIES_BY_KIND.get(case.kind, ())]
    return [name for name in names if fits(name, case, user=user)]
