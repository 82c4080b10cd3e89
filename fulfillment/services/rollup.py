"""Roll fulfillment progress up into line and order statuses.

A line's status is its least advanced part: backordered while any quantity waits for stock,
then allocated while any reserved quantity is not yet at its node, then released, then shipped
(every unit shipped or picked up), then delivered. The order follows its lines, except that one
shipped unit makes it partially shipped. Called by every service that changes reservations or
fulfillment orders, under the order lock they already hold.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django_fsm import can_proceed

from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine
from fulfillment.models.fulfillment_orders import AT_NODE_STATUSES, FulfillmentStatus
from inventory.models import Reservation, ReservationStatus
from oms.core.actors import Actor
from oms.core.queries import bound_cursor, opaque_array, raw_bound, save_fields
from oms.core.transactions import require_atomic
from oms.events.models import Event
from oms.events.services import record_event
from orders.events import ORDER_CANCELLED, ORDER_STATUS_CHANGED
from orders.models import LineStatus, Order, OrderLine, OrderStatus, PaymentStatus

ROLLUP = Actor.system("rollup")
DONE_FOR_CUSTOMER = (FulfillmentStatus.DELIVERED, FulfillmentStatus.PICKED_UP)


@dataclass
class LineFigures:
    waiting_at_oms: int = 0  # reserved, not yet released to the node
    at_node: int = 0  # reserved, released, not shipped
    shipped: int = 0  # shipped or picked up
    delivered: int = 0  # delivered or picked up


@dataclass
class StatusWrites:
    """The order and line statuses one transaction's roll-ups moved, written once at its end.

    Orchestration rolls an order up twice under one lock: allocated when routing reserves,
    released when a node that pulls its work gets it. Each roll-up records its
    `order.status_changed` event at once (the history is unchanged), but the rows are written
    only by flush(): one UPDATE of the order and one per final line status instead of one per
    move. Every status UPDATE of the order rewrites all its indexes, the five trigram GIN
    indexes of the console's search among them (a status is indexed, so it is never a HOT
    update): about 1 ms of PostgreSQL's CPU each (docs/performance.md). Nothing in between may
    read those statuses from the database; a caller that must flushes first."""

    order: Order | None = None
    lines: dict[int, OrderLine] = field(default_factory=dict)

    def flush(self) -> None:
        by_status: dict[str, list[int]] = defaultdict(list)
        for line in self.lines.values():
            by_status[line.status].append(line.pk)
        now = timezone.now()
        groups = sorted(by_status.items())
        if self.order is not None and connection.vendor == "postgresql":
            # The lines' UPDATEs ride in the order's (data-modifying CTEs): one round trip.
            along = [_line_statuses_statement(ids, status, now) for status, ids in groups]
            save_fields(self.order, ["status", "updated_at"], along=along)
        else:
            for status, line_ids in groups:
                _update_line_statuses(line_ids, status, now)
            if self.order is not None:
                save_fields(self.order, ["status", "updated_at"])
        self.order = None
        self.lines = {}


def _update_line_statuses(line_ids: list[int], status: str, now: datetime) -> None:
    """`OrderLine.objects.filter(pk__in=line_ids).update(status=status, updated_at=now)`; on
    PostgreSQL one statement text whatever the number of lines (an array), bound by the server
    and so prepared after a few orders, instead of compiled by the ORM every time."""
    if connection.vendor != "postgresql":
        OrderLine.objects.filter(pk__in=line_ids).update(status=status, updated_at=now)
        return
    with bound_cursor(connection) as cursor:
        cursor.execute(*_line_statuses_statement(line_ids, status, now))


def _line_statuses_statement(
    line_ids: list[int], status: str, now: datetime
) -> tuple[str, list[Any]]:
    """PostgreSQL's UPDATE of `line_ids` to `status` (an array: one text whatever the number
    of lines)."""
    qn = connection.ops.quote_name
    return (
        f"UPDATE {qn(OrderLine._meta.db_table)} SET status = %s, updated_at = %s "  # noqa: S608 - the table from the model
        f"WHERE id = ANY({opaque_array('bigint[]')})",  # a generic plan: see opaque_array
        [str(status), now, line_ids],
    )


def line_figures(line_ids: list[int]) -> dict[int, LineFigures]:
    figures: dict[int, LineFigures] = defaultdict(LineFigures)
    for line_id, quantity, fo_status in Reservation.objects.filter(
        order_line_id__in=line_ids, status=ReservationStatus.ACTIVE
    ).values_list("order_line_id", "quantity", "fulfillment_line__fulfillment__status"):
        if fo_status in AT_NODE_STATUSES:
            figures[line_id].at_node += quantity
        else:
            figures[line_id].waiting_at_oms += quantity
    for line_id, shipped, fo_status in FulfillmentOrderLine.objects.filter(
        Q(order_line_id__in=line_ids) & Q(shipped_quantity__gt=0)
    ).values_list("order_line_id", "shipped_quantity", "fulfillment__status"):
        figures[line_id].shipped += shipped
        if fo_status in DONE_FOR_CUSTOMER:
            figures[line_id].delivered += shipped
    return figures


def figures_sql(*, consumed: bool = False) -> tuple[str, str]:
    """The select columns and LATERAL joins that add up, per order line aliased `l`, the same
    sums as line_figures(): fig_waiting, fig_at_node, fig_shipped, fig_delivered, and with
    `consumed` also fig_consumed (what consumed reservations shipped; routing counts it as
    covered). One fragment for the roll-up's read and routing's line lock, so both count alike.
    Its parameters come from figures_params(). PostgreSQL only."""
    reservation = Reservation._meta.db_table
    fo_line = FulfillmentOrderLine._meta.db_table
    fo = FulfillmentOrder._meta.db_table
    columns = (
        "COALESCE(fig_r.waiting, 0) AS fig_waiting, "
        "COALESCE(fig_r.at_node, 0) AS fig_at_node, "
        + ("COALESCE(fig_r.consumed, 0) AS fig_consumed, " if consumed else "")
        + "COALESCE(fig_f.shipped, 0) AS fig_shipped, "
        "COALESCE(fig_f.delivered, 0) AS fig_delivered"
    )
    statuses = "IN (%(fig_active)s, %(fig_consumed)s)" if consumed else "= %(fig_active)s"
    consumed_sum = (
        ",\n                SUM(res.consumed_quantity) FILTER "
        "(WHERE res.status = %(fig_consumed)s) AS consumed"
        if consumed
        else ""
    )
    joins = f"""
        LEFT JOIN LATERAL (
            SELECT
                SUM(res.quantity) FILTER (
                    WHERE res.status = %(fig_active)s
                    AND (fo.status IS NULL OR NOT fo.status = ANY(%(fig_at_node)s))
                ) AS waiting,
                SUM(res.quantity) FILTER (
                    WHERE res.status = %(fig_active)s AND fo.status = ANY(%(fig_at_node)s)
                ) AS at_node{consumed_sum}
            FROM {reservation} res
            LEFT JOIN {fo_line} fl ON fl.reservation_id = res.id
            LEFT JOIN {fo} fo ON fo.id = fl.fulfillment_id
            WHERE res.order_line_id = l.id AND res.status {statuses}
        ) fig_r ON TRUE
        LEFT JOIN LATERAL (
            SELECT
                SUM(fl.shipped_quantity) AS shipped,
                SUM(fl.shipped_quantity) FILTER (WHERE fo.status = ANY(%(fig_done)s)) AS delivered
            FROM {fo_line} fl
            JOIN {fo} fo ON fo.id = fl.fulfillment_id
            WHERE fl.order_line_id = l.id AND fl.shipped_quantity > 0
        ) fig_f ON TRUE
    """  # noqa: S608 - table names from models, values are parameters
    return columns, joins


def figures_params() -> dict[str, Any]:
    """The parameters figures_sql()'s fragments name."""
    return {
        "fig_active": ReservationStatus.ACTIVE,
        "fig_consumed": ReservationStatus.CONSUMED,
        "fig_at_node": [str(s) for s in AT_NODE_STATUSES],
        "fig_done": [str(s) for s in DONE_FOR_CUSTOMER],
    }


def figures_of(row: Any) -> LineFigures:
    """A row read with figures_sql()'s columns, as LineFigures."""
    return LineFigures(
        waiting_at_oms=row.fig_waiting,
        at_node=row.fig_at_node,
        shipped=row.fig_shipped,
        delivered=row.fig_delivered,
    )


def _lines_with_figures(order_id: int) -> tuple[list[OrderLine], dict[int, LineFigures]]:
    """The order's lines (by id) and line_figures() of each, in one statement instead of three
    (PostgreSQL; the same sums as line_figures, per line in LATERAL subqueries)."""
    columns, joins = figures_sql()
    sql = f"""
        SELECT l.*, {columns}
        FROM {OrderLine._meta.db_table} l
        {joins}
        WHERE l.order_id = %(order)s
        ORDER BY l.id
    """  # noqa: S608 - table names from models, values are parameters
    lines: list[Any] = raw_bound(OrderLine, sql, {"order": order_id, **figures_params()})
    figures: dict[int, LineFigures] = defaultdict(LineFigures)
    for row in lines:
        figures[row.pk] = figures_of(row)
    return lines, figures


def _line_target(line: OrderLine, figures: LineFigures) -> str:
    # Cancelled units are not waited for: a line is shipped when its live units are.
    if figures.delivered >= line.live_quantity:
        return LineStatus.DELIVERED
    if figures.shipped >= line.live_quantity:
        return LineStatus.SHIPPED
    covered = figures.shipped + figures.at_node + figures.waiting_at_oms
    if covered < line.live_quantity:
        return LineStatus.BACKORDERED
    if figures.waiting_at_oms:
        return LineStatus.ALLOCATED
    return LineStatus.RELEASED


_LINE_TRANSITIONS: dict[str, str] = {
    LineStatus.BACKORDERED: "mark_backordered",
    LineStatus.ALLOCATED: "mark_allocated",
    LineStatus.RELEASED: "mark_released",
    LineStatus.SHIPPED: "mark_shipped",
    LineStatus.DELIVERED: "mark_delivered",
}
_ORDER_TRANSITIONS: dict[str, str] = {
    OrderStatus.BACKORDERED: "mark_backordered",
    OrderStatus.ALLOCATED: "mark_allocated",
    OrderStatus.RELEASED: "mark_released",
    OrderStatus.PARTIALLY_SHIPPED: "mark_partially_shipped",
    OrderStatus.SHIPPED: "mark_shipped",
    OrderStatus.DELIVERED: "mark_delivered",
}


def rollup_order(
    order: Order,
    *,
    lines: list[OrderLine] | None = None,
    last_event: Event | None = None,
    cancel_reason: str = "",
    cancel_actor: Actor | None = None,
    cause: Event | None = None,
    figures: dict[int, LineFigures] | None = None,
) -> list[tuple[str, str]]:
    """Bring the order's and its lines' statuses in line with reservations and fulfillments.
    The caller holds the order lock. Records `order.status_changed` for each move of the
    order's status and returns the (from, to) pairs. `lines`: the order's lines as the caller
    read them under its lock in this transaction (cancelled ones may be left out), which saves
    reading them again; they are updated in place. `last_event`: the event the caller last
    appended to the order's stream in this transaction (saves the sequence lookup).
    An order left with no live line is cancelled (`order.cancelled`) with `cancel_reason` and
    `cancel_actor` (the cancellation that took its last line; `cause` is its event).
    `figures`: line_figures() of the live lines as they stand now, when the caller read them
    under its lock and knows what it changed since (route_order does: saves two reads)."""
    return rollup_order_and_tail(
        order,
        lines=lines,
        last_event=last_event,
        cancel_reason=cancel_reason,
        cancel_actor=cancel_actor,
        cause=cause,
        figures=figures,
    )[0]


def rollup_order_and_tail(
    order: Order,
    *,
    lines: list[OrderLine] | None = None,
    last_event: Event | None = None,
    cancel_reason: str = "",
    cancel_actor: Actor | None = None,
    cause: Event | None = None,
    figures: dict[int, LineFigures] | None = None,
    writes: StatusWrites | None = None,
) -> tuple[list[tuple[str, str]], Event | None]:
    """rollup_order(), and the last event of the order's stream this transaction appended
    after it (`last_event` itself when the roll-up recorded none): what the caller's next event
    follows without a sequence lookup. With `writes`, the statuses moved are left to
    writes.flush() instead of written here (the events are recorded here all the same)."""
    require_atomic("rollup_order()")
    if lines is None and writes is not None:
        writes.flush()  # the lines are read below: with what this transaction moved
    # Without the caller's writes, this roll-up's own, written before its events (one
    # statement on PostgreSQL for the lines and the order: StatusWrites.flush).
    own_writes = writes is None
    if writes is None:
        writes = StatusWrites()
    if lines is None and figures is None and connection.vendor == "postgresql":
        lines, figures = _lines_with_figures(order.pk)
    if lines is None:
        lines = list(OrderLine.objects.filter(order_id=order.pk).order_by("id"))
    live = [line for line in lines if line.status != LineStatus.CANCELLED]
    if figures is None:
        figures = line_figures([line.pk for line in live])
    targets: dict[int, str] = {}
    shipped_any = False
    for line in live:
        f = figures[line.pk]
        target = _line_target(line, f)
        targets[line.pk] = target
        shipped_any = shipped_any or f.shipped > 0
        if target != line.status:
            getattr(line, _LINE_TRANSITIONS[target])()  # the FSM checks the move is legal
            writes.lines[line.pk] = line
    if not live and lines:
        writes.flush()  # it reads the order's status back
        return _cancel_when_nothing_is_left(
            order, lines, cancel_reason, cancel_actor or ROLLUP, cause, last_event
        )
    changes = _rollup_header(order, list(targets.values()), shipped_any)
    if changes:
        writes.order = order
    if own_writes:
        writes.flush()
    for before, after in changes:
        last_event = record_event(
            stream=order.stream,
            type=ORDER_STATUS_CHANGED,
            actor=ROLLUP,
            payload={"from": before, "to": after},
            previous=last_event,
        )
    return changes, last_event


def _cancel_when_nothing_is_left(
    order: Order,
    lines: list[OrderLine],
    reason: str,
    actor: Actor,
    cause: Event | None,
    last_event: Event | None,
) -> tuple[list[tuple[str, str]], Event | None]:
    """Every line is cancelled: so is the order, once (Order.cancel), with who and why."""
    if Order.objects.filter(pk=order.pk, status=OrderStatus.CANCELLED).exists():
        # Cancelled in this transaction through another instance of the row (a nested service
        # call): bring this one up to date and record nothing twice. The stream's tail is
        # unknown here (another call appended to it).
        order.refresh_from_db(fields=["status", "cancelled_at", "cancel_reason"])
        return [], None
    if not can_proceed(order.cancel):
        return [], last_event
    before = order.status
    reason = reason or "every line was cancelled"
    order.cancel(reason=reason, at=timezone.now())
    order.save(update_fields=["status", "cancelled_at", "cancel_reason", "updated_at"])
    cancelled = record_event(
        stream=order.stream,
        type=ORDER_CANCELLED,
        actor=actor,
        causation_id=cause.event_id if cause is not None else None,
        payload={
            "from": before,
            "reason": reason,
            "actor": actor.label,
            "lines": sorted(line.line_number for line in lines),
            "at": order.cancelled_at.isoformat() if order.cancelled_at else "",
        },
        previous=last_event,
        subject=order,
    )
    return [(before, order.status)], cancelled


def _rollup_header(
    order: Order, line_statuses: list[str], shipped_any: bool
) -> list[tuple[str, str]]:
    """Move the order's status after its lines' (in memory: StatusWrites.flush writes it)."""
    if not line_statuses or order.status in (OrderStatus.CANCELLED, OrderStatus.COMPLETED):
        return []
    target = _order_target(line_statuses, shipped_any)
    changes = []
    if target != order.status:
        before = order.status
        getattr(order, _ORDER_TRANSITIONS[target])()
        changes.append((before, order.status))
    if order.status == OrderStatus.DELIVERED and order.payment_status == PaymentStatus.PAID:
        before = order.status
        order.complete()
        changes.append((before, order.status))
    return changes


def _order_target(statuses: list[str], shipped_any: bool) -> str:
    if all(s == LineStatus.DELIVERED for s in statuses):
        return OrderStatus.DELIVERED
    if all(s in (LineStatus.SHIPPED, LineStatus.DELIVERED) for s in statuses):
        return OrderStatus.SHIPPED
    if shipped_any:
        return OrderStatus.PARTIALLY_SHIPPED
    if LineStatus.BACKORDERED in statuses:
        return OrderStatus.BACKORDERED
    if LineStatus.ALLOCATED in statuses:
        return OrderStatus.ALLOCATED
    return OrderStatus.RELEASED
