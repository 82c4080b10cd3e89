"""Fulfillment orders: create them from an order's reservations, release them to their nodes.

create_fulfillment_orders() runs in the orchestration transaction right after routing: every
active reservation not yet in a fulfillment order joins one for its node. release_fulfillment()
runs as a task per fulfillment order: it calls the node's connector outside any transaction
(network or file I/O), then records the release under the order lock. Both are idempotent.
"""

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from django.db import connections, router, transaction
from django.db.models import Max, Subquery
from django.utils import timezone

from fulfillment.connectors import (
    ConnectorRefused,
    ReleaseAck,
    ReleasePayload,
    connector_for,
)
from fulfillment.connectors.base import ReleaseLine
from fulfillment.events import (
    FULFILLMENT_CREATED,
    FULFILLMENT_RELEASE_FAILED,
    FULFILLMENT_RELEASED,
    FULFILLMENT_SENT_WHILE_CANCELLED,
)
from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine, FulfillmentStatus
from fulfillment.services.rollup import (
    LineFigures,
    StatusWrites,
    rollup_order,
    rollup_order_and_tail,
)
from inventory.models import Node, Reservation, ReservationStatus
from oms.core.actors import Actor
from oms.core.queries import (
    CompiledLookup,
    CompiledQuery,
    bound_cursor,
    insert_rows_bound,
    new_row,
    save_fields,
)
from oms.core.transactions import enqueue_on_commit, require_atomic
from oms.events.models import Event
from oms.events.services import record_event
from orders.locks import lock_order
from orders.models import DeliveryMethod, Order, OrderLine, ServiceLevel
from orders.selectors import active_hold_exists

logger = logging.getLogger(__name__)

SYSTEM = Actor.system("orchestrator")

# Promise to ship by: hours after release, per service level (stores use the same clock).
SHIP_BY_HOURS: dict[str, int] = {
    ServiceLevel.SAME_DAY: 4,
    ServiceLevel.EXPRESS: 24,
    ServiceLevel.STANDARD: 48,
}


def create_fulfillment_orders(
    *, order: Order, actor: Actor = SYSTEM, last_event: Event | None = None
) -> list[FulfillmentOrder]:
    """One fulfillment order per node for the order's reservations that have none yet.
    The caller holds the order lock. Records fulfillment.created for each. `last_event`: the
    event the caller last appended to the order's stream in this transaction (saves the
    sequence lookup)."""
    return create_fulfillment_orders_and_pending(order=order, actor=actor, last_event=last_event)[0]


@dataclass(frozen=True)
class _Made:
    """A fulfillment order's node (the columns release_pulled() reads: code, connector,
    settings) and payload lines, as create_fulfillment_orders_and_pending() wrote them."""

    node: Node
    lines: tuple[ReleaseLine, ...]
    moves: tuple[tuple[int, int], ...]  # (order line id, quantity) its release takes to the node


def create_fulfillment_orders_and_pending(
    *, order: Order, actor: Actor = SYSTEM, last_event: Event | None = None
) -> tuple[list[FulfillmentOrder], list[int], Event | None]:
    """create_fulfillment_orders(), the ids of the order's pending fulfillment orders after
    it (new and earlier ones, by id): what orchestration releases, and the stream's last event
    this transaction appended (`last_event` when none was created). The order's fulfillment
    orders are read once, for both their count (the new numbers) and the pending ones; the new
    ones go in with one INSERT for the headers and one for all their lines."""
    require_atomic("create_fulfillment_orders()")
    unassigned, existing = _unassigned_and_existing(order.pk)
    pending = [pk for pk, status in existing if status == FulfillmentStatus.PENDING]
    if not unassigned:
        return [], pending, last_event
    by_node: dict[int, list[tuple]] = defaultdict(list)
    for row in unassigned:
        by_node[row[1]].append(row)
    now = timezone.now()
    groups = sorted(by_node.items())
    created = insert_rows_bound(
        [
            new_row(
                FulfillmentOrder,
                number=f"{order.number}-{len(existing) + index}",
                order=order,
                node_id=node_id,
                delivery_method=order.delivery_method,
                service_level=order.service_level,
                ship_by=now + timedelta(hours=SHIP_BY_HOURS.get(order.service_level, 48)),
            )
            for index, (node_id, _reservations) in enumerate(groups, start=1)
        ]
    )
    fo_lines = insert_rows_bound(
        [
            new_row(
                FulfillmentOrderLine,
                fulfillment=fo,
                order_line_id=line_id,
                reservation_id=pk,
                quantity=quantity,
            )
            for fo, (_node_id, reservations) in zip(created, groups, strict=True)
            for pk, _node, line_id, quantity, *_rest in reservations
        ]
    )
    lines_by_fo: dict[int, list[FulfillmentOrderLine]] = defaultdict(list)
    for fo_line in fo_lines:
        lines_by_fo[fo_line.fulfillment_id].append(fo_line)
    for fo, (node_id, reservations) in zip(created, groups, strict=True):
        # What release_pulled() needs of a fulfillment order made here, without reading it back:
        # its node's code, connector and settings, and the release payload's lines.
        first = reservations[0]
        fo._made = _Made(  # type: ignore[attr-defined]  # read by release_pulled() only
            node=Node(id=node_id, code=first[4], connector=first[8], connector_settings=first[9]),
            lines=tuple(
                ReleaseLine(line_id=fo_line.pk, sku=row[6], name=row[7], quantity=row[3])
                for fo_line, row in zip(lines_by_fo[fo.pk], reservations, strict=True)
            ),
            moves=tuple((row[2], row[3]) for row in reservations),
        )
    for fo, (_node_id, reservations) in zip(created, groups, strict=True):
        last_event = record_event(
            stream=order.stream,
            type=FULFILLMENT_CREATED,
            actor=actor,
            payload={
                "fulfillment": fo.number,
                "node": reservations[0][4],
                "delivery_method": fo.delivery_method,
                "lines": [
                    {"line_number": number, "sku": sku, "quantity": quantity}
                    for _pk, _node, _line, quantity, _code, number, sku, *_rest in reservations
                ],
            },
            previous=last_event,
        )
    return created, pending + [fo.pk for fo in created], last_event


def _unassigned_and_existing(order_id: int) -> tuple[list[tuple], list[tuple[int, str]]]:
    """The order's active reservations no fulfillment order line has yet, by node, line and
    id, as tuples (reservation, node, line, quantity, node code, line number, sku, and for
    release_pulled() the line's name and the node's connector and its settings: model
    instances cost more than the statement), and its fulfillment orders (id, status) by id.
    Two statements whose text never changes, bound by the server: prepared after a few
    orders (the ORM's compiling and PostgreSQL's planning of the first cost more than
    running it)."""
    connection = connections[router.db_for_read(Reservation)]
    qn = connection.ops.quote_name
    unassigned_sql = f"""
        SELECT r.id, r.node_id, r.order_line_id, r.quantity, n.code, l.line_number, l.sku,
            l.name, n.connector, n.connector_settings
        FROM {qn(Reservation._meta.db_table)} r
        JOIN {qn(OrderLine._meta.db_table)} l ON l.id = r.order_line_id
        JOIN {qn(Node._meta.db_table)} n ON n.id = r.node_id
        WHERE l.order_id = %s AND r.status = %s
          AND NOT EXISTS (
              SELECT 1 FROM {qn(FulfillmentOrderLine._meta.db_table)} fl
              WHERE fl.reservation_id = r.id
          )
        ORDER BY r.node_id, r.order_line_id, r.id
    """  # noqa: S608 - table names from models, values are parameters
    existing_sql = f"""
        SELECT id, status FROM {qn(FulfillmentOrder._meta.db_table)}
        WHERE order_id = %s ORDER BY id
    """  # noqa: S608 - the table name from the model, the value is a parameter
    settings_field: Any = Node._meta.get_field("connector_settings")  # its from_db_value()
    with bound_cursor(connection) as cursor:
        cursor.execute(unassigned_sql, [order_id, str(ReservationStatus.ACTIVE)])
        unassigned = [
            (*row[:9], settings_field.from_db_value(row[9], None, connection))
            for row in cursor.fetchall()
        ]
        cursor.execute(existing_sql, [order_id])
        existing = [(pk, status) for pk, status in cursor.fetchall()]
    return unassigned, existing


def schedule_release(fulfillment_ids: list[int]) -> None:
    """After commit, send each pending fulfillment order to its node."""
    # Seam: the task module imports this one, so it is imported where it is used.
    from fulfillment.tasks import release_fulfillment_task  # noqa: PLC0415

    for fulfillment_id in fulfillment_ids:
        enqueue_on_commit(release_fulfillment_task, fulfillment_id)


# The release's reads run once or twice per order, every one through the ORM's compiler: their
# SQL is compiled once per thread instead (oms/core/queries.py); the rows are read every time.
_to_release: CompiledLookup[FulfillmentOrder] = CompiledLookup(
    lambda pk: (
        FulfillmentOrder.objects.select_related("node", "order", "order__pickup_node")
        .annotate(on_hold=active_hold_exists("order_id"))
        .filter(pk=pk)
    ),
    kinds=(int,),
)
_payload_lines: CompiledQuery[FulfillmentOrderLine] = CompiledQuery(
    lambda pk: (
        FulfillmentOrderLine.objects.select_related("order_line")
        .filter(fulfillment_id=pk)
        .order_by("id")
    ),
    kinds=(int,),
)
# Under the order lock: the fulfillment order, locked, with its node, and the order stream's
# last event sequence (read after the order lock, so it sees every earlier holder's events).
_locked_for_release: CompiledLookup[FulfillmentOrder] = CompiledLookup(
    lambda pk, stream: (
        FulfillmentOrder.objects.select_for_update(of=("self",))
        .select_related("node")
        .annotate(
            stream_last_seq=Subquery(
                Event.objects.filter(stream=stream)
                .order_by()
                .values("stream")
                .annotate(last=Max("seq"))
                .values("last")
            )
        )
        .filter(pk=pk)
    ),
    kinds=(int, str),
)
_line_ids: CompiledQuery[FulfillmentOrderLine] = CompiledQuery(
    lambda pk: FulfillmentOrderLine.objects.filter(fulfillment_id=pk).only("id").order_by("id"),
    kinds=(int,),
)


def release_fulfillment(*, fulfillment_id: int) -> str:
    """Send a pending fulfillment order to its node and record the release.

    Returns what happened: released, not_pending, on_hold. Raises ConnectorUnavailable
    (the task retries) and ConnectorRefused (terminal; recorded on the fulfillment order)."""
    fo = _to_release(fulfillment_id)
    if fo is None or fo.status != FulfillmentStatus.PENDING:
        return "not_pending"
    if fo.on_hold:  # type: ignore[attr-defined]  # the annotation of _to_release
        return "on_hold"  # released by orchestration when the last hold goes
    connector = connector_for(fo.node.connector)
    payload = release_payload(fo)
    try:
        ack = connector.send(payload)  # outside any transaction: it may be network I/O
    except ConnectorRefused as exc:
        _note_release_error(fo.pk, f"{exc.code}: {exc.message}")
        raise
    released = _record_release(
        fo.pk, ack, sent_line_ids={line.line_id for line in payload.lines}, order_id=fo.order_id
    )
    if released:
        connector.after_release(fo.pk, fo.node.connector_settings)
    return "released" if released else "not_pending"


def release_pulled(
    *,
    order: Order,
    fulfillment_ids: list[int],
    created: Sequence[FulfillmentOrder] = (),
    last_event: Event | None = None,
    lines: list[OrderLine] | None = None,
    figures: dict[int, LineFigures] | None = None,
    writes: StatusWrites | None = None,
) -> list[int]:
    """Release, in the caller's transaction, those of the order's pending fulfillment orders
    whose node's connector pushes nothing (`pushes` False: the node pulls its work through the
    API or the store screens; the simulated WMS). Their send() leaves the process with nothing,
    so there is no reason to commit first and lock the order again: each is released here with
    the same payload, event and roll-up as release_fulfillment(), its after_release() on commit.
    The caller holds the order lock and has checked that no active hold stops the order.
    `created`: the fulfillment orders create_fulfillment_orders_and_pending() made in this
    transaction (their node and lines are not read again). `last_event`: the event the caller
    last appended to the order's stream in this transaction. `lines` and `figures`: the
    order's live lines and their figures as the transaction's last roll-up left them
    (routing's): each release's roll-up then moves the fulfillment order's quantities from
    waiting at the OMS to at the node in them instead of reading them again. `writes`: the
    transaction's deferred status writes (rollup.StatusWrites). Returns the ids left for
    release_fulfillment() (connectors that push), in the given order."""
    require_atomic("release_pulled()")
    new = {fo.pk: fo for fo in created}
    earlier = [pk for pk in fulfillment_ids if pk not in new]
    pending = sorted(
        [new[pk] for pk in fulfillment_ids if pk in new]
        + list(  # pending before this transaction (a hold released): locked and read here
            FulfillmentOrder.objects.select_for_update(of=("self",))
            .select_related("node")
            .filter(pk__in=earlier, status=FulfillmentStatus.PENDING)
            .order_by("id")
            if earlier
            else []
        ),
        key=lambda fo: fo.pk,
    )
    pulled: dict[int, tuple[FulfillmentOrder, Node, _Made | None]] = {}
    for fo in pending:
        made: _Made | None = getattr(fo, "_made", None)
        node = made.node if made else fo.node
        if not getattr(connector_for(node.connector), "pushes", True):
            pulled[fo.pk] = (fo, node, made)
    if any(made is None for _fo, _node, made in pulled.values()):
        lines = figures = None  # an earlier fulfillment order's lines are not known here
    for fo, node, made in pulled.values():
        fo.order = order  # the locked order: release_payload() reads it
        connector = connector_for(node.connector)
        ack = connector.send(release_payload(fo, node=node, lines=made.lines if made else None))
        released = _mark_released(order, fo, node, ack, previous=last_event)
        if made is not None and lines is not None and figures is not None:
            for line_id, quantity in made.moves:
                figures[line_id].waiting_at_oms -= quantity
                figures[line_id].at_node += quantity
            _changes, last_event = rollup_order_and_tail(
                order, lines=lines, figures=figures, last_event=released, writes=writes
            )
        else:
            _changes, last_event = rollup_order_and_tail(order, last_event=released, writes=writes)
        settings = dict(node.connector_settings)
        transaction.on_commit(partial(connector.after_release, fo.pk, settings))
    return [pk for pk in fulfillment_ids if pk not in pulled]


def _mark_released(
    order: Order, fo: FulfillmentOrder, node: Node, ack: ReleaseAck, *, previous: Event | None
) -> Event:
    """The release of a pending fulfillment order, under the order lock: its status, time and
    the node's reference saved without the query compiler, and `fulfillment.released` after
    `previous` (the stream's tail). The caller rolls the order's statuses up."""
    fo.release(at=timezone.now(), node_reference=ack.reference)
    fo.release_attempts += 1
    save_fields(
        fo,
        [
            "status",
            "released_at",
            "node_reference",
            "last_release_error",
            "release_attempts",
            "updated_at",
        ],
    )
    return record_event(
        stream=order.stream,
        type=FULFILLMENT_RELEASED,
        actor=SYSTEM,
        payload={
            "fulfillment": fo.number,
            "node": node.code,
            "connector": node.connector,
            "node_reference": fo.node_reference,
        },
        previous=previous,
    )


def _record_release(
    fulfillment_id: int, ack: ReleaseAck, *, sent_line_ids: set[int], order_id: int
) -> bool:
    """Record the release under the order lock. A line cancelled while the connector was
    sending (orders.services.cancellation) may have reached the node anyway: that raises an
    integration_failed case for a person to settle with the node. `order_id`: the fulfillment
    order's order (it never changes)."""
    with transaction.atomic():
        order = lock_order(order_id)
        fo = _locked_for_release(fulfillment_id, order.stream)
        if fo is None:
            raise FulfillmentOrder.DoesNotExist(f"fulfillment order {fulfillment_id}")
        if fo.status != FulfillmentStatus.PENDING:
            if fo.status == FulfillmentStatus.CANCELLED:
                _sent_while_cancelled(order, fo, sorted(sent_line_ids))
            return False  # a concurrent run released it first, or it was cancelled
        gone = sorted(sent_line_ids - {line.pk for line in _line_ids.all(fulfillment_id)})
        released = _mark_released(
            order,
            fo,
            fo.node,
            ack,
            # The stream's tail as read under the order lock just above: no sequence lookup.
            previous=Event(stream=order.stream, seq=fo.stream_last_seq or 0),  # type: ignore[attr-defined]  # the annotation
        )
        rollup_order(order, last_event=released)
        if gone:
            _sent_while_cancelled(order, fo, gone)
    return True


def _sent_while_cancelled(order: Order, fo: FulfillmentOrder, line_ids: list[int]) -> None:
    """The node may hold work that no longer exists: `fulfillment.sent_while_cancelled`, which
    the console turns into an integration_failed case that only a person closes."""
    summary = (
        f"{fo.number} reached {fo.node.code} while it was being cancelled: ask the node to "
        "cancel it"
        if fo.status == FulfillmentStatus.CANCELLED
        else f"{fo.number} reached {fo.node.code} with {len(line_ids)} line(s) cancelled "
        "meanwhile: ask the node not to ship them"
    )
    record_event(
        stream=order.stream,
        type=FULFILLMENT_SENT_WHILE_CANCELLED,
        actor=SYSTEM,
        payload={
            "fulfillment": fo.number,
            "node": fo.node.code,
            "summary": summary,
            "cancelled_lines": line_ids,
        },
        subject=fo,
    )


def _note_release_error(fulfillment_id: int, message: str) -> None:
    with transaction.atomic():
        # Project lock order: the order first, then its fulfillment order.
        order_id = (
            FulfillmentOrder.objects.filter(pk=fulfillment_id)
            .values_list("order_id", flat=True)
            .get()
        )
        order = lock_order(order_id)
        fo = (
            FulfillmentOrder.objects.select_for_update(of=("self",))
            .select_related("node")
            .get(pk=fulfillment_id)
        )
        fo.release_attempts += 1
        fo.last_release_error = message[:500]
        fo.save(update_fields=["release_attempts", "last_release_error", "updated_at"])
        record_event(  # an integration_failed exception case follows (ops/handlers.py)
            stream=order.stream,
            type=FULFILLMENT_RELEASE_FAILED,
            actor=SYSTEM,
            payload={
                "fulfillment": fo.number,
                "node": fo.node.code,
                "error": message[:500],
                "attempts": fo.release_attempts,
            },
            subject=fo,
        )
    logger.warning("release refused", extra={"fulfillment": fulfillment_id, "error": message})


def release_payload(
    fo: FulfillmentOrder, *, node: Node | None = None, lines: tuple[ReleaseLine, ...] | None = None
) -> ReleasePayload:
    """What the connector is sent for this fulfillment order (its lines as they are now, read
    here unless the caller just wrote them: `lines`; its node unless given: `node`)."""
    order = fo.order
    node = node or fo.node
    ship_to = (
        {
            "name": order.ship_name,
            "line1": order.ship_line1,
            "line2": order.ship_line2,
            "city": order.ship_city,
            "region": order.ship_region,
            "postal_code": order.ship_postal_code,
            "country": order.ship_country,
        }
        if order.delivery_method == DeliveryMethod.SHIP
        else {"name": order.customer_name, "pickup_node": node.code}
    )
    if lines is None:
        lines = tuple(
            ReleaseLine(
                line_id=line.pk,
                sku=line.order_line.sku,
                name=line.order_line.name,
                quantity=line.quantity,
            )
            for line in _payload_lines.all(fo.pk)
        )
    return ReleasePayload(
        fulfillment_id=fo.pk,
        number=fo.number,
        order_number=order.number,
        node_code=node.code,
        delivery_method=fo.delivery_method,
        service_level=fo.service_level,
        ship_to=ship_to,
        customer_name=order.customer_name,
        lines=lines,
        placed_at=order.placed_at,
        settings=dict(node.connector_settings),
    )


def pending_fulfillment_ids(order_id: int) -> list[int]:
    return list(
        FulfillmentOrder.objects.filter(order_id=order_id, status=FulfillmentStatus.PENDING)
        .order_by("id")
        .values_list("id", flat=True)
    )
