"""Reserving, releasing and consuming stock: the one algorithm that must never oversell.

Every function here runs inside the caller's transaction (it refuses to run outside one) and
records no event: the caller (route_order, cancel_order, ship...) records its own event in the
same transaction. Each writes one ledger movement per stock change.

- A reservation is a conditional UPDATE, `reserved = reserved + q WHERE available >= q`, so two
  buyers can never both take the last unit: the database re-checks `available` on the locked row.
  One call reserves all its stock rows in one such statement (`_take`).
- Stock rows are touched in (node_id, product_id) order, the project's lock order
  (inventory/locks.py), so two multi-line reservations cannot deadlock.
- Releasing and consuming lock the reservation rows first (by id), then touch stock rows; they
  are idempotent: a reservation that is no longer active is left as it is.
- Writing off (`write_off()`, a short pick or shipment) is the one path where units leave a
  reservation without shipping and without going back on sale: reserved and on_hand fall
  together (`shortage` movement), so available does not rise.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import or_
from typing import Any

from django.db import connection
from django.db.models import F, Model, Q, sql
from django.utils import timezone

from inventory.exceptions import (
    InvalidQuantity,
    InventoryErrorCode,
    ReservationRefused,
    StockCountersInconsistent,
)
from inventory.locks import lock_reservations
from inventory.models import (
    InventoryMovement,
    MovementReason,
    Reservation,
    ReservationStatus,
    StockLevel,
)
from inventory.selectors import active_reservations_for_order_lines
from inventory.services.movements import movement, write_movements
from oms.core.actors import Actor
from oms.core.errors import NotFound
from oms.core.queries import bound_cursor, insert_statement, opaque_array
from oms.core.transactions import require_atomic

ORDER_REFERENCE = "order"


@dataclass(frozen=True)
class ReservationRequest:
    node_id: int
    product_id: int
    quantity: int
    order_line_id: int
    # The stock level row, when the caller already read it (routing does): saves a lookup.
    stock_level_id: int | None = None


def reserve(
    *, requests: list[ReservationRequest], actor: Actor, reference_id: str
) -> list[Reservation | None]:
    """Reserve each request, all or nothing per request; results in the input order.

    A result is None when the node has no stock level for the product or fewer than `quantity`
    available; nothing is written for that request. Each success is one conditional UPDATE of
    the stock level (all of them in one statement), one Reservation and one `reservation`
    ledger movement (reference_type "order", `reference_id`). Stock rows are locked in
    (node_id, product_id) order.
    """
    require_atomic("reserve()")
    for request in requests:
        if request.quantity <= 0:
            raise InvalidQuantity(request.quantity)
    if not requests:
        return []
    stock_ids = {(r.node_id, r.product_id): r.stock_level_id for r in requests if r.stock_level_id}
    unknown = {(r.node_id, r.product_id) for r in requests} - stock_ids.keys()
    if unknown:
        stock_ids.update(_stock_level_ids(unknown))
    now = timezone.now()
    results: list[Reservation | None] = [None] * len(requests)
    movements = []
    in_lock_order = sorted(
        range(len(requests)), key=lambda i: (requests[i].node_id, requests[i].product_id, i)
    )
    wanted = [
        (index, stock_level_id)
        for index in in_lock_order
        if (stock_level_id := stock_ids.get((requests[index].node_id, requests[index].product_id)))
    ]
    taken = _take([(level, requests[index].quantity) for index, level in wanted], now=now)
    for (index, stock_level_id), took in zip(wanted, taken, strict=True):
        if not took:
            continue
        request = requests[index]
        results[index] = Reservation(
            node_id=request.node_id,
            product_id=request.product_id,
            stock_level_id=stock_level_id,
            order_line_id=request.order_line_id,
            reference_id=reference_id[:100],
            quantity=request.quantity,
        )
        movements.append(
            movement(
                node_id=request.node_id,
                product_id=request.product_id,
                delta_reserved=request.quantity,
                reason=MovementReason.RESERVATION,
                reference_type=ORDER_REFERENCE,
                reference_id=reference_id,
                note=f"order line {request.order_line_id}",
                actor=actor,
                occurred_at=now,
            )
        )
    _insert_with_movements([r for r in results if r is not None], movements)
    return results


# Above this many rows the two INSERTs go separately (bulk_create batches them).
ONE_STATEMENT_ROWS = 500


def _insert_with_movements(
    reservations: list[Reservation], movements: list[InventoryMovement]
) -> None:
    """Insert the reservations (their ids set, as bulk_create does) and their ledger movements
    in one statement: the movements' INSERT is a data-modifying CTE of the reservations'
    `INSERT ... RETURNING id`. Both are Django's own bulk INSERTs (same columns, defaults and
    auto_now values as bulk_create; no signals either way)."""
    if not reservations and not movements:
        return
    if (
        not reservations
        or not movements
        or len(reservations) + len(movements) > ONE_STATEMENT_ROWS
        or connection.vendor != "postgresql"  # a data-modifying CTE: PostgreSQL's
    ):
        Reservation.objects.bulk_create(reservations)
        write_movements(movements)
        return
    require_atomic("_insert_with_movements()")
    movement_sql, movement_params = _bulk_insert_sql(InventoryMovement, movements, returning=False)
    reservation_sql, reservation_params = _bulk_insert_sql(
        Reservation, reservations, returning=True
    )
    with bound_cursor(connection) as cursor:  # prepared after a few runs of each row count
        cursor.execute(
            f"WITH movements AS ({movement_sql}) {reservation_sql}",
            (*movement_params, *reservation_params),
        )
        rows = cursor.fetchall()
    fields = Reservation._meta.db_returning_fields
    for reservation, row in zip(reservations, rows, strict=True):
        for field, value in zip(fields, row, strict=True):
            setattr(reservation, field.attname, value)
        reservation._state.adding = False
        reservation._state.db = connection.alias


def _bulk_insert_sql(
    model: type[Model], objs: list[Any], *, returning: bool
) -> tuple[str, tuple[Any, ...]]:
    """The statement and parameters bulk_create would send for `objs` (rows without a primary
    key yet), as one INSERT: its text built once per model and row count where
    oms.core.queries.insert_statement can (the returned columns are then always named; the
    movements' CTE does not read them), else by Django's compiler."""
    planned = insert_statement(objs, connection)
    if planned is not None:
        return planned[0], tuple(planned[1])
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.generated and f is not meta.auto_field]
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
    query = sql.InsertQuery(model)
    query.insert_values(fields, objs)
    compiler = query.get_compiler(connection=connection)
    if returning:
        compiler.returning_fields = meta.db_returning_fields
    [(statement, params)] = compiler.as_sql()
    return statement, tuple(params)


def _take(takes: list[tuple[int, int]], *, now: datetime) -> list[bool]:
    """`reserved = reserved + q WHERE available >= q` for each (stock level id, q), in the
    given order (the lock order); returns, per item, whether it was taken.

    Distinct stock levels go in one statement: a CTE locks, in the given order (`ORDER BY`
    under `FOR UPDATE`), the rows whose `available` covers their quantity, then one UPDATE takes
    each whose `available` still covers it. Under READ COMMITTED both re-check that condition
    on the newest version of a row another transaction changed meanwhile, exactly as a one-row
    UPDATE does, so two buyers can still never both take the last unit. A row that cannot be
    taken is not locked, whatever plan PostgreSQL picks: locking it anyway (as the generic plan
    did, which evaluates the lock first) held a sold-out row to the end of the transaction, and
    buyers falling back to each other's nodes deadlocked (tests/concurrency). When one stock
    level appears twice (two lines of the same product at one node), each is taken on its own,
    one UPDATE each, so that each stays all or nothing."""
    if not takes:
        return []
    ids = [level for level, _ in takes]
    # SQLite (make run's demo database) has no arrays and takes the whole database's write lock
    # for a transaction anyway: one conditional UPDATE per row there.
    if len(set(ids)) < len(ids) or connection.vendor != "postgresql":
        return [
            bool(
                StockLevel.objects.filter(pk=level, available__gte=quantity).update(
                    reserved=F("reserved") + quantity, updated_at=now
                )
            )
            for level, quantity in takes
        ]
    table = StockLevel._meta.db_table
    # The arrays hidden from the planner (opaque_array): one generic plan, not one per order.
    ids_param, quantities_param = opaque_array("bigint[]"), opaque_array("integer[]")
    sql = f"""
        WITH wanted AS (
            SELECT w.id, w.quantity, w.position
            FROM unnest({ids_param}, {quantities_param})
                WITH ORDINALITY AS w(id, quantity, position)
        ),
        locked AS MATERIALIZED (
            SELECT s.id FROM {table} s JOIN wanted w ON w.id = s.id
            WHERE s.available >= w.quantity
            ORDER BY w.position
            FOR UPDATE OF s
        )
        UPDATE {table} s
        SET reserved = s.reserved + w.quantity, updated_at = %s
        FROM wanted w, locked k
        WHERE s.id = w.id AND k.id = s.id AND s.available >= w.quantity
        RETURNING s.id
    """  # noqa: S608 - the table name from the model, values are parameters
    with bound_cursor(connection) as cursor:  # one text for every order: prepared
        cursor.execute(sql, [ids, [quantity for _, quantity in takes], now])
        done = {row[0] for row in cursor.fetchall()}
    return [level in done for level in ids]


def release(*, reservation_ids: list[int], actor: Actor, reason: str) -> list[Reservation]:
    """Release active reservations; returns those this call released, by id.

    Idempotent: a reservation already released or consumed is left untouched and not
    returned. Locks the reservations (by id), then gives their units back to the stock levels
    in (node_id, product_id) order with `reserved = reserved - q WHERE reserved >= q`; one
    `release` movement each. Unknown ids are refused with `reservation_not_found`.
    """
    require_atomic("release()")
    locked = lock_reservations(reservation_ids)
    missing = set(reservation_ids) - {r.pk for r in locked}
    if missing:
        raise NotFound(
            f"No reservation {', '.join(str(i) for i in sorted(missing))}.",
            code=InventoryErrorCode.RESERVATION_NOT_FOUND,
        )
    active = [r for r in locked if r.status == ReservationStatus.ACTIVE]
    now = timezone.now()
    movements = []
    for reservation in sorted(active, key=lambda r: (r.node_id, r.product_id, r.pk)):
        _give_back(reservation.stock_level_id, reservation.quantity, now=now)
        reservation.release(at=now, reason=reason)
        reservation.save(update_fields=["status", "released_at", "reason", "updated_at"])
        movements.append(
            movement(
                node_id=reservation.node_id,
                product_id=reservation.product_id,
                delta_reserved=-reservation.quantity,
                reason=MovementReason.RELEASE,
                reference_type=ORDER_REFERENCE,
                reference_id=reservation.reference_id,
                note=reason,
                actor=actor,
                occurred_at=now,
            )
        )
    write_movements(movements)
    return active


def consume(*, reservation_id: int, quantity: int, actor: Actor) -> Reservation:
    """Ship `quantity` units of a reservation: on_hand and reserved both fall by `quantity`
    (`shipment` movement); if fewer than reserved shipped, the rest is released in the same
    UPDATE (`release` movement). Idempotent: a consumed reservation is returned as it is.

    Refuses `reservation_released` (nothing left to ship against), `consume_exceeds_reservation`
    and `shipment_exceeds_on_hand` (the node's count says it cannot have shipped that many:
    correct the count with an adjustment first; nothing is written).
    """
    require_atomic("consume()")
    if quantity <= 0:
        raise InvalidQuantity(quantity)
    reservation = _lock_one(reservation_id)
    if reservation.status == ReservationStatus.CONSUMED:
        return reservation
    if reservation.status == ReservationStatus.RELEASED:
        raise ReservationRefused(
            InventoryErrorCode.RESERVATION_RELEASED,
            f"Reservation {reservation_id} was released; there is nothing to ship against it.",
            reservation_id=reservation_id,
        )
    if quantity > reservation.quantity:
        raise ReservationRefused(
            InventoryErrorCode.CONSUME_EXCEEDS_RESERVATION,
            f"Reservation {reservation_id} holds {reservation.quantity}; cannot ship {quantity}.",
            reservation_id=reservation_id,
            reserved=reservation.quantity,
        )
    now = timezone.now()
    shipped = StockLevel.objects.filter(
        pk=reservation.stock_level_id, reserved__gte=reservation.quantity, on_hand__gte=quantity
    ).update(
        on_hand=F("on_hand") - quantity,
        reserved=F("reserved") - reservation.quantity,
        updated_at=now,
    )
    if not shipped:
        _refuse_consume(reservation, quantity)
    reservation.consume(at=now, quantity=quantity)
    reservation.save(update_fields=["status", "consumed_at", "consumed_quantity", "updated_at"])
    movements = [
        movement(
            node_id=reservation.node_id,
            product_id=reservation.product_id,
            delta_on_hand=-quantity,
            delta_reserved=-quantity,
            reason=MovementReason.SHIPMENT,
            reference_type=ORDER_REFERENCE,
            reference_id=reservation.reference_id,
            actor=actor,
            occurred_at=now,
        )
    ]
    if quantity < reservation.quantity:
        movements.append(
            movement(
                node_id=reservation.node_id,
                product_id=reservation.product_id,
                delta_reserved=-(reservation.quantity - quantity),
                reason=MovementReason.RELEASE,
                reference_type=ORDER_REFERENCE,
                reference_id=reservation.reference_id,
                note="not shipped: rest of a partly consumed reservation",
                actor=actor,
                occurred_at=now,
            )
        )
    write_movements(movements)
    return reservation


@dataclass(frozen=True)
class WriteOff:
    reservation_id: int
    quantity: int


@dataclass(frozen=True)
class WrittenOff:
    """What `write_off()` did to one reservation: `quantity` reserved units written off, of
    which `on_hand_removed` left on_hand (fewer only when the node counted less than that)."""

    reservation: Reservation
    quantity: int
    on_hand_removed: int
    on_hand: int
    reserved: int
    available: int


def write_off(*, requests: list[WriteOff], actor: Actor, reason: str) -> list[WrittenOff]:
    """The node could not find these units: take them off the reservation AND off on_hand.

    Per request, on an active reservation: `q = min(quantity, reservation.quantity)`; the stock
    level's reserved falls by q and its on_hand by q (by what is left when on_hand is lower,
    e.g. after an oversell: on_hand never goes negative); one `shortage` movement with both
    deltas. Available stays as it was (it falls only in that oversold case), so the units do
    not go back on sale. A reservation written off in full is closed (released, with the
    reason); otherwise it keeps the rest. Reservations that are not active are skipped
    (idempotent). Locks the reservations (by id), then the stock rows in (node, product)
    order; the caller holds the node lock when it records an event on the node's stream.
    """
    require_atomic("write_off()")
    for request in requests:
        if request.quantity <= 0:
            raise InvalidQuantity(request.quantity)
    if not requests:
        return []
    wanted = {r.reservation_id: r.quantity for r in requests}
    locked = lock_reservations(wanted)
    missing = set(wanted) - {r.pk for r in locked}
    if missing:
        raise NotFound(
            f"No reservation {', '.join(str(i) for i in sorted(missing))}.",
            code=InventoryErrorCode.RESERVATION_NOT_FOUND,
        )
    active = sorted(
        (r for r in locked if r.status == ReservationStatus.ACTIVE),
        key=lambda r: (r.node_id, r.product_id, r.pk),
    )
    levels = {
        level.pk: level
        for level in StockLevel.objects.select_for_update(of=("self",), no_key=True)
        .filter(pk__in={r.stock_level_id for r in active})
        .order_by("node_id", "product_id")
    }
    now = timezone.now()
    done, movements = [], []
    for reservation in active:
        level = levels[reservation.stock_level_id]
        quantity = min(wanted[reservation.pk], reservation.quantity)
        removed = min(quantity, level.on_hand)
        if level.reserved < quantity:
            raise StockCountersInconsistent(
                f"Stock level {level.pk} has fewer than {quantity} reserved units to write off.",
                stock_level_id=level.pk,
            )
        StockLevel.objects.filter(pk=level.pk).update(
            on_hand=F("on_hand") - removed, reserved=F("reserved") - quantity, updated_at=now
        )
        level.on_hand -= removed
        level.reserved -= quantity
        if quantity == reservation.quantity:
            reservation.release(at=now, reason=f"written off: {reason}")
            reservation.save(update_fields=["status", "released_at", "reason", "updated_at"])
        else:
            reservation.quantity -= quantity
            reservation.save(update_fields=["quantity", "updated_at"])
        movements.append(
            movement(
                node_id=reservation.node_id,
                product_id=reservation.product_id,
                delta_on_hand=-removed,
                delta_reserved=-quantity,
                reason=MovementReason.SHORTAGE,
                reference_type=ORDER_REFERENCE,
                reference_id=reservation.reference_id,
                note=reason,
                actor=actor,
                occurred_at=now,
            )
        )
        done.append(
            WrittenOff(
                reservation=reservation,
                quantity=quantity,
                on_hand_removed=removed,
                on_hand=level.on_hand,
                reserved=level.reserved,
                available=level.on_hand - level.reserved - level.safety_stock,
            )
        )
    write_movements(movements)
    return done


def release_for_order_lines(
    *, order_line_ids: list[int], actor: Actor, reason: str
) -> list[Reservation]:
    """Release every active reservation of these order lines (see `release()`)."""
    require_atomic("release_for_order_lines()")
    ids = list(active_reservations_for_order_lines(order_line_ids).values_list("pk", flat=True))
    return release(reservation_ids=ids, actor=actor, reason=reason)


def release_units(*, reservation_id: int, quantity: int, actor: Actor, reason: str) -> int:
    """Give back `quantity` units of an active reservation (a partial cancel): the reservation
    keeps the rest, or is released when nothing is left. One `release` movement. Returns the
    units released (0 when the reservation is no longer active: idempotent)."""
    require_atomic("release_units()")
    if quantity <= 0:
        raise InvalidQuantity(quantity)
    reservation = _lock_one(reservation_id)
    if reservation.status != ReservationStatus.ACTIVE:
        return 0
    if quantity >= reservation.quantity:
        return sum(
            r.quantity
            for r in release(reservation_ids=[reservation.pk], actor=actor, reason=reason)
        )
    now = timezone.now()
    _give_back(reservation.stock_level_id, quantity, now=now)
    reservation.quantity -= quantity
    reservation.save(update_fields=["quantity", "updated_at"])
    write_movements(
        [
            movement(
                node_id=reservation.node_id,
                product_id=reservation.product_id,
                delta_reserved=-quantity,
                reason=MovementReason.RELEASE,
                reference_type=ORDER_REFERENCE,
                reference_id=reservation.reference_id,
                note=reason,
                actor=actor,
                occurred_at=now,
            )
        ]
    )
    return quantity


def split_reservation(*, reservation_id: int, quantity: int) -> Reservation:
    """Take `quantity` units of an active reservation into a new one for the same stock level
    and order line (a fulfillment order split in two at its node). The stock level's counters
    and the ledger do not change: the same units stay reserved, only held by two rows. One
    conditional UPDATE (`quantity > q` on an active row), one INSERT. Refuses
    `invalid_quantity` (not between 1 and the reservation's quantity - 1) and
    `reservation_released` (not active)."""
    require_atomic("split_reservation()")
    if quantity <= 0:
        raise InvalidQuantity(quantity)
    reservation = _lock_one(reservation_id)
    now = timezone.now()
    taken = Reservation.objects.filter(
        pk=reservation.pk, status=ReservationStatus.ACTIVE, quantity__gt=quantity
    ).update(quantity=F("quantity") - quantity, updated_at=now)
    if not taken:
        if reservation.status != ReservationStatus.ACTIVE:
            raise ReservationRefused(
                InventoryErrorCode.RESERVATION_RELEASED,
                f"Reservation {reservation_id} is {reservation.status}; it cannot be split.",
                reservation_id=reservation_id,
            )
        raise InvalidQuantity(quantity)
    return Reservation.objects.create(
        node_id=reservation.node_id,
        product_id=reservation.product_id,
        stock_level_id=reservation.stock_level_id,
        order_line_id=reservation.order_line_id,
        reference_id=reservation.reference_id,
        quantity=quantity,
    )


def _lock_one(reservation_id: int) -> Reservation:
    locked = lock_reservations([reservation_id])
    if not locked:
        raise NotFound(
            f"No reservation {reservation_id}.", code=InventoryErrorCode.RESERVATION_NOT_FOUND
        )
    return locked[0]


def _stock_level_ids(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """(node_id, product_id) → stock level id, in one query (no lock: the UPDATE locks)."""
    match = reduce(or_, (Q(node_id=n, product_id=p) for n, p in sorted(pairs)))
    return {
        (node_id, product_id): pk
        for pk, node_id, product_id in StockLevel.objects.filter(match).values_list(
            "pk", "node_id", "product_id"
        )
    }


def _give_back(stock_level_id: int, quantity: int, *, now: datetime) -> None:
    given = StockLevel.objects.filter(pk=stock_level_id, reserved__gte=quantity).update(
        reserved=F("reserved") - quantity, updated_at=now
    )
    if not given:
        raise StockCountersInconsistent(
            f"Stock level {stock_level_id} has fewer than {quantity} reserved units to release.",
            stock_level_id=stock_level_id,
        )


def _refuse_consume(reservation: Reservation, quantity: int) -> None:
    level = (
        StockLevel.objects.filter(pk=reservation.stock_level_id)
        .values("on_hand", "reserved")
        .first()
    ) or {"on_hand": 0, "reserved": 0}
    if level["on_hand"] < quantity:
        raise ReservationRefused(
            InventoryErrorCode.SHIPMENT_EXCEEDS_ON_HAND,
            f"The node counts {level['on_hand']} on hand; it cannot have shipped {quantity}. "
            "Correct the count (adjustment or snapshot) first.",
            reservation_id=reservation.pk,
            on_hand=level["on_hand"],
        )
    raise StockCountersInconsistent(
        f"Stock level {reservation.stock_level_id} has {level['reserved']} reserved, fewer than "
        f"reservation {reservation.pk} holds ({reservation.quantity}).",
        stock_level_id=reservation.stock_level_id,
    )
