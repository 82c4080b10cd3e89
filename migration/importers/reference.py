"""Kinds that refer to orders imported before from the same source.

- status code lists: checked against an order mapping's status map (read only);
- allocations (`AllocationImporter`): applied to in-flight orders, the units moved to the
  node the legacy system allocated (fulfillment.services.reallocation);
- shipments (`ShipmentImporter`): applied to in-flight orders through the normal flow: the
  fulfillment order at the shipment's node is accepted if it was only released, then shipped
  with the parcel's carrier and tracking (`ship_fulfillment`: reservations consumed,
  `fulfillment.shipped`, capture). A shipment that carries only part of that fulfillment
  order's units first splits that part off into a fulfillment order of its own
  (fulfillment/services/split.py: same node and state, reservations split, nothing written
  off), which then ships; the rest stays at the node and carries on natively (a short shipment
  would write the rest off instead). Refused: more units than the fulfillment order has
  (`over_shipment`), a part of one already picked or packed or with an open node request
  (`not_splittable`). A shipment without lines (a container list) ships the order's one
  fulfillment order at a node. For an order imported as history (closed), the shipment is
  history too: its parcel (carrier, tracking, units) joins the order's imported shipment at
  the node (fulfillment.services.history.record_historic_parcel: no stock moves, nothing
  routed; the same tracking number again changes nothing); a cancelled or picked-up history
  order has no parcel: `order_closed`.
- cancellations (`CancellationImporter`): applied through `cancel_line_units`, like a person's
  cancel: units not yet at a node are cancelled at once, units at a node are asked back from it;
  on an order oms only mirrors, through `apply_legacy_cancellation` (no node, out of the shadow
  comparison, `order.legacy_cancelled`). For an order imported as history the cancellation is
  recorded as history (record_historic_cancellation: the line's cancelled quantity,
  `order.cancellation_imported`; status, money and stock unchanged), for units neither shipped
  nor cancelled in the history (`not_cancellable` otherwise).

Order lines are found by the legacy line key (Sterling's OrderLineKey, kept as the line's
external line id by the order mapping), among the orders imported from the same source.
"""

from pathlib import Path
from typing import Any

from django.db.models import QuerySet

from fulfillment.models import FulfillmentOrder, FulfillmentStatus
from fulfillment.models.fulfillment_orders import AT_NODE_STATUSES, FINISHED_STATUSES
from fulfillment.models.node_requests import NodeRequestStatus
from fulfillment.services.feedback import accept_fulfillment
from fulfillment.services.history import (
    HistoricParcel,
    cancellable_history_units,
    known_parcel,
    parcel_room,
    record_historic_cancellation,
    record_historic_parcel,
)
from fulfillment.services.order_cancellation import cancel_line_units
from fulfillment.services.reallocation import (
    ReallocationRefused,
    plan_reallocation,
    reallocate_line,
)
from fulfillment.services.shipping import Package, ship_fulfillment
from fulfillment.services.split import SPLITTABLE, split_fulfillment
from inventory.models import Node
from migration.importers.base import Importer
from migration.mapping.extract import CanonicalRecord, RowError
from migration.mapping.schema import load_mapping
from migration.models import ImportedRecord
from migration.services.legacy_cancellation import (
    LEGACY_CANCEL_REASON,
    LegacyLineCancel,
    apply_legacy_cancellation,
)
from orders.models import DeliveryMethod, LineStatus, Order, OrderLine, OrderStatus

CLOSED = (OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.COMPLETED, OrderStatus.CANCELLED)


class StatusCodeImporter(Importer):
    def key(self, record: CanonicalRecord) -> str:
        return str(record.fields["code"])

    def check(self, record: CanonicalRecord) -> list[RowError]:
        check = self.mapping.options.check_map
        if check is None:
            return []
        if not hasattr(self, "_values"):
            other = load_mapping(
                Path(__file__).resolve().parent.parent / "mappings" / check.mapping
            )
            spec = other.maps[check.map]
            self._values = {str(k).casefold() for k in spec.values}
        code = str(record.fields["code"])
        if code.casefold() not in self._values:
            self.report.unmapped[f"{check.mapping}:{check.map}"][
                f"{code} {record.fields['name']}"
            ] += 1
            return [
                self.err(
                    record,
                    "unmapped_status",
                    "code",
                    f"{check.mapping} does not map {record.fields['name']!r}",
                    code,
                )
            ]
        return []


class OrderReferenceImporter(Importer):
    """allocations / shipments / cancellations: the order they name must have been imported."""

    order_field = "order_id"

    def key(self, record: CanonicalRecord) -> str:
        return record.source_id or f"{record.fields[self.order_field]}/{record.line}"

    def check(self, record: CanonicalRecord) -> list[RowError]:
        order_id = str(record.fields[self.order_field])
        known = ImportedRecord.objects.filter(
            source=self.mapping.source, kind="orders", source_id=order_id
        ).exists()
        if not known:
            return [
                self.err(
                    record,
                    "unknown_order",
                    self.order_field,
                    "no order with this id was imported from this source",
                    order_id,
                )
            ]
        return []


class AllocationImporter(OrderReferenceImporter):
    """Sterling getOrderLineList: the node the legacy system allocated each line's open units
    to (the OrderStatuses with an open status). Applied to in-flight orders imported from the
    same source through fulfillment.services.reallocation.reallocate_line: the units are
    reserved at that node (a conditional UPDATE) and taken off where oms held them, when no
    node has them yet; units already held there count, so the same allocation again changes
    nothing. Shipped and cancelled statuses are the shipments' and cancellations' business
    (skipped here). Refused with a code: `unknown_line`, `unknown_node`, `order_closed` (a
    history order: nothing to allocate), `allocated_at_node`, `over_allocation`, `node_short`."""

    target_type = "order"

    def _wanted(
        self, record: CanonicalRecord
    ) -> tuple[Node | None, list[tuple[OrderLine | None, str, int]]]:
        order_id = str(record.fields["order_id"])
        number = (
            _imported_orders(self.mapping.source)
            .filter(source_id=order_id)
            .values_list("target_id", flat=True)
            .first()
        )
        node = Node.objects.filter(code=str(record.fields["node"])).first()
        units: dict[str, int] = {}
        for line in record.lines:
            if str(line.get("status") or "open") != "open":
                continue
            key = str(line.get("line_id") or "")
            units[key] = units.get(key, 0) + int(line.get("quantity") or 0)
        lines = {
            line.external_line_id: line
            for line in OrderLine.objects.filter(
                order__number=number, external_line_id__in=units
            ).select_related("order")
        }
        return node, [(lines.get(key), key, quantity) for key, quantity in units.items()]

    def check(self, record: CanonicalRecord) -> list[RowError]:
        errors = super().check(record)
        if errors:
            return errors
        node, wanted = self._wanted(record)
        if node is None:
            return [self.err(record, "unknown_node", "node", "no such node", record.fields["node"])]
        for line, key, quantity in wanted:
            if line is None:
                errors.append(
                    self.err(record, "unknown_line", "lines.line_id",
                             "the order has no line with this legacy key", key)
                )  # fmt: skip
                continue
            try:
                plan = plan_reallocation(line, node, quantity)
            except ReallocationRefused as refused:
                errors.append(self.err(record, refused.code, "node", refused.detail, node.code))
                continue
            if plan.needed and self.dry_run:
                self.report.warn(
                    self.err(record, "would_reallocate", "node",
                             f"{line.order.number} line {line.line_number}: {plan.needed} "
                             f"unit(s) to {node.code}", node.code)
                )  # fmt: skip
        return errors

    def create(self, record: CanonicalRecord) -> str:
        node, wanted = self._wanted(record)
        if node is None:
            raise RuntimeError("checked before")
        number = ""
        for line, _, quantity in wanted:
            if line is None:
                raise RuntimeError("checked before")
            reallocate_line(
                order_line_id=line.pk, node_id=node.pk, quantity=quantity, actor=self.actor,
                reason=f"allocated to {node.code} in {self.mapping.source}",
            )  # fmt: skip
            number = line.order.number
        return number


def _imported_orders(source: str) -> QuerySet[ImportedRecord]:
    return ImportedRecord.objects.filter(source=source, kind="orders")


class ShipmentImporter(OrderReferenceImporter):
    target_type = "shipment"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # record → the units of its fulfillment order it ships, when that is only part of it
        self._parts: dict[int, dict[int, int]] = {}
        # record → the parcel it adds to an order imported as history
        self._history: dict[int, HistoricParcel] = {}

    def _order(self, record: CanonicalRecord) -> Order | None:
        number = (
            _imported_orders(self.mapping.source)
            .filter(source_id=str(record.fields["order_id"]))
            .values_list("target_id", flat=True)
            .first()
        )
        return Order.objects.filter(number=number).first() if number else None

    def _fulfillment(
        self, record: CanonicalRecord
    ) -> tuple[FulfillmentOrder | None, RowError | None]:
        # What an earlier record left under this id (ids are reused once it is gone).
        self._parts.pop(id(record), None)
        self._history.pop(id(record), None)
        order = self._order(record)
        if order is None:
            return None, None  # unknown_order, from the base check
        keys = {str(line.get("line_id") or "") for line in record.lines} - {""}
        lines = {
            line.external_line_id: line
            for line in OrderLine.objects.filter(order=order, external_line_id__in=keys)
        }
        missing = sorted(keys - set(lines))
        if missing:
            return None, self.err(
                record, "unknown_line", "lines.line_id",
                f"{order.number} has no line with this legacy key", ", ".join(missing),
            )  # fmt: skip
        if order.status in CLOSED:
            return self._history_fulfillment(record, order, lines)
        node = str(record.fields.get("node") or "")
        candidates = FulfillmentOrder.objects.filter(
            order=order, status__in=AT_NODE_STATUSES
        ).select_related("node")
        if keys:  # else (a container list: no lines): the order's one fulfillment at a node
            candidates = candidates.filter(lines__order_line__in=lines.values())
        if node:
            candidates = candidates.filter(node__code=node)
        fos = list(candidates.distinct())
        if len(fos) != 1:
            return None, self.err(
                record, "not_at_node", "node",
                f"{order.number}: {len(fos)} fulfillment orders at {node or 'a node'} carry these "
                "lines (it must be released there first)", node,
            )  # fmt: skip
        fo = fos[0]
        if not keys:
            return fo, None
        shipped: dict[str, int] = {}
        for line in record.lines:
            key = str(line.get("line_id"))
            shipped[key] = shipped.get(key, 0) + int(line.get("quantity") or 0)
        part: dict[int, int] = {}
        for fo_line in fo.lines.select_related("order_line").order_by("pk"):
            key = fo_line.order_line.external_line_id
            take = min(shipped.get(key, 0), fo_line.quantity)
            if take:
                part[fo_line.pk] = take
                shipped[key] -= take
        over = {key: units for key, units in shipped.items() if units > 0}
        if over:
            return None, self.err(
                record, "over_shipment", "lines.quantity",
                f"{fo.number} has fewer units of line(s) {', '.join(sorted(over))} to ship than "
                "the shipment carries", ", ".join(f"{k}: +{v}" for k, v in sorted(over.items())),
            )  # fmt: skip
        whole = {line.pk: line.quantity for line in fo.lines.all()}
        if part == whole:
            return fo, None
        if fo.status not in SPLITTABLE:
            return None, self.err(
                record, "not_splittable", "lines.quantity",
                f"{fo.number} is {fo.status}: a shipment of part of it needs it split, and only "
                "a released or accepted fulfillment order is split", fo.status,
            )  # fmt: skip
        if fo.node_requests.filter(status=NodeRequestStatus.OPEN).exists():
            return None, self.err(
                record, "not_splittable", "lines.quantity",
                f"{fo.number} has an open node request: apply the shipment once it is answered",
            )  # fmt: skip
        self._parts[id(record)] = part
        return fo, None

    def _history_fulfillment(
        self, record: CanonicalRecord, order: Order, lines: dict[str, OrderLine]
    ) -> tuple[FulfillmentOrder | None, RowError | None]:
        """A parcel of an order imported as history: it joins the order's imported shipment
        at the node (fulfillment.services.history.record_historic_parcel)."""
        if order.status == OrderStatus.CANCELLED:
            return None, self.err(
                record, "order_closed", "order_id",
                f"{order.number} was imported cancelled: nothing of it shipped",
                record.fields["order_id"],
            )  # fmt: skip
        node = str(record.fields.get("node") or "")
        candidates = FulfillmentOrder.objects.filter(
            order=order, status__in=FINISHED_STATUSES
        ).select_related("node")
        if lines:
            candidates = candidates.filter(lines__order_line__in=lines.values())
        if node:
            candidates = candidates.filter(node__code=node)
        fos = list(candidates.distinct())
        if len(fos) != 1:
            return None, self.err(
                record, "not_at_node", "node",
                f"{order.number} (history): {len(fos)} shipments from {node or 'a node'} carry "
                "these lines", node,
            )  # fmt: skip
        fo = fos[0]
        if fo.delivery_method != DeliveryMethod.SHIP:
            return None, self.err(
                record, "order_closed", "order_id",
                f"{order.number} was picked up at {fo.node.code}: it has no parcel",
                record.fields["order_id"],
            )  # fmt: skip
        f = record.fields
        units: dict[int, int] = {}
        for line in record.lines:
            order_line = lines[str(line.get("line_id"))]
            units[order_line.pk] = units.get(order_line.pk, 0) + int(line.get("quantity") or 0)
        parcel = HistoricParcel(
            carrier=str(f.get("carrier") or ""),
            tracking_number=str(f["tracking_number"]),
            shipped_at=f.get("shipped_at"),
            lines=units,
        )
        known = known_parcel(fo, parcel)
        if known is None:
            room = parcel_room(fo)
            shipped = {
                order_line_id: sum(
                    room[fl.pk] for fl in fo.lines.all() if fl.order_line_id == order_line_id
                )
                for order_line_id in units
            }
            if not sum(room.values()) or any(units[k] > shipped[k] for k in units):
                return None, self.err(
                    record, "over_shipment", "lines.quantity",
                    f"{fo.number} (history) has fewer shipped units outside parcels than the "
                    "shipment carries",
                )  # fmt: skip
        elif known.fulfillment_id != fo.pk:
            return None, self.err(
                record, "tracking_taken", "tracking_number",
                "another fulfillment order has a parcel with this tracking number",
                parcel.tracking_number,
            )  # fmt: skip
        self._history[id(record)] = parcel
        return fo, None

    def check(self, record: CanonicalRecord) -> list[RowError]:
        errors = super().check(record)
        if errors:
            return errors
        _, error = self._fulfillment(record)
        return [error] if error else []

    def create(self, record: CanonicalRecord) -> str:
        fo, error = self._fulfillment(record)
        if fo is None:
            raise RuntimeError(f"checked before: {error}")
        parcel = self._history.pop(id(record), None)
        if parcel is not None:
            record_historic_parcel(fulfillment_id=fo.pk, parcel=parcel, actor=self.actor)
            return fo.number
        part = self._parts.pop(id(record), None)
        if part is not None:
            fo = split_fulfillment(
                fulfillment_id=fo.pk, quantities=part, actor=self.actor,
                reason=f"{self.mapping.source} shipment {self.key(record)} carries part of it",
            )  # fmt: skip
        if fo.status == FulfillmentStatus.RELEASED:
            accept_fulfillment(fulfillment_id=fo.pk, actor=self.actor)
        f = record.fields
        ship_fulfillment(
            fulfillment_id=fo.pk,
            packages=[
                Package(
                    carrier=str(f.get("carrier") or ""),
                    tracking_number=str(f["tracking_number"]),
                )
            ],
            actor=self.actor,
            shipped_at=f.get("shipped_at"),
        )
        return fo.number


class CancellationImporter(OrderReferenceImporter):
    """Sterling changeRelease: cancel `-quantity_change` units of each line named by its key."""

    order_field = "order_key"
    target_type = "order"

    def _lines(self, record: CanonicalRecord) -> list[tuple[OrderLine | None, int, str]]:
        numbers = _imported_orders(self.mapping.source).values("target_id")
        found = []
        for line in record.lines:
            key = str(line.get("line_id") or "")
            order_line = (
                OrderLine.objects.filter(external_line_id=key, order__number__in=numbers)
                .select_related("order")
                .first()
            )
            found.append((order_line, -int(line.get("quantity_change") or 0), key))
        return found

    def check(self, record: CanonicalRecord) -> list[RowError]:
        errors = []
        for order_line, quantity, key in self._lines(record):
            if order_line is None:
                errors.append(
                    self.err(
                        record,
                        "unknown_line",
                        "lines.line_id",
                        "no line with this legacy key was imported from this source",
                        key,
                    )  # fmt: skip
                )
            elif quantity < 1:
                errors.append(
                    self.err(record, "bad_quantity", "lines.quantity_change",
                             "a cancellation takes units away (a negative change)", -quantity)
                )  # fmt: skip
            elif order_line.order.status in CLOSED:
                room = cancellable_history_units(order_line)
                if quantity > room:
                    errors.append(
                        self.err(record, "not_cancellable", "lines.quantity_change",
                                 f"{order_line.order.number} (history) line "
                                 f"{order_line.line_number}: {room} of its {order_line.quantity} "
                                 f"units are neither shipped nor cancelled", key)
                    )  # fmt: skip
            elif order_line.status == LineStatus.CANCELLED:
                errors.append(
                    self.err(record, "not_cancellable", "lines.line_id",
                             f"{order_line.order.number} line {order_line.line_number} is "
                             f"{order_line.status}", key)
                )  # fmt: skip
        return errors

    def create(self, record: CanonicalRecord) -> str:
        number = ""
        for order_line, quantity, _ in self._lines(record):
            if order_line is None:
                raise RuntimeError("checked before")
            if order_line.order.is_legacy_mirror:  # oms only mirrors it: the legacy cancel
                apply_legacy_cancellation(
                    order_id=order_line.order_id,
                    actor=self.actor,
                    source=self.mapping.name,
                    lines=[LegacyLineCancel(order_line.sku, quantity)],
                )
                number = order_line.order.number
                continue
            if order_line.order.status in CLOSED:
                record_historic_cancellation(
                    order_line_id=order_line.pk, quantity=quantity, actor=self.actor,
                    source=self.mapping.source, reason=LEGACY_CANCEL_REASON,
                )  # fmt: skip
                number = order_line.order.number
                continue
            outcome = cancel_line_units(
                order_id=order_line.order_id,
                line_number=order_line.line_number,
                actor=self.actor,
                reason=LEGACY_CANCEL_REASON,
                quantity=quantity,
            )
            number = outcome.order
        return number
