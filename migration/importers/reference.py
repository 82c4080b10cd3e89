"""Kinds that refer to orders imported before from the same source.

- status code lists: checked against an order mapping's status map (read only);
- allocations: checked (the order must have been imported; read only);
- shipments (`ShipmentImporter`): applied to in-flight orders through the normal flow: the
  fulfillment order at the shipment's node is accepted if it was only released, then shipped
  with the parcel's carrier and tracking (`ship_fulfillment`: reservations consumed,
  `fulfillment.shipped`, capture). Only a shipment that carries every unit still to ship of that
  fulfillment order is applied (a part would read as a short shipment): `partial_shipment`
  otherwise; a shipment without lines (a container list) ships the order's one fulfillment
  order at a node. A closed (history) order is reported `order_closed`: its parcel came with it.
- cancellations (`CancellationImporter`): applied through `cancel_line_units`, like a person's
  cancel: units not yet at a node are cancelled at once, units at a node are asked back from it;
  on an order oms only mirrors, through `apply_legacy_cancellation` (no node, out of the shadow
  comparison, `order.legacy_cancelled`).

Order lines are found by the legacy line key (Sterling's OrderLineKey, kept as the line's
external line id by the order mapping), among the orders imported from the same source.
"""

from pathlib import Path

from django.db.models import QuerySet

from fulfillment.models import FulfillmentOrder, FulfillmentStatus
from fulfillment.models.fulfillment_orders import AT_NODE_STATUSES
from fulfillment.services.feedback import accept_fulfillment
from fulfillment.services.order_cancellation import cancel_line_units
from fulfillment.services.shipping import Package, ship_fulfillment
from migration.importers.base import Importer
from migration.mapping.extract import CanonicalRecord, RowError
from migration.mapping.schema import load_mapping
from migration.models import ImportedRecord
from migration.services.legacy_cancellation import (
    LEGACY_CANCEL_REASON,
    LegacyLineCancel,
    apply_legacy_cancellation,
)
from orders.models import LineStatus, Order, OrderLine, OrderStatus

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


def _imported_orders(source: str) -> QuerySet[ImportedRecord]:
    return ImportedRecord.objects.filter(source=source, kind="orders")


class ShipmentImporter(OrderReferenceImporter):
    target_type = "shipment"

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
        order = self._order(record)
        if order is None:
            return None, None  # unknown_order, from the base check
        if order.status in CLOSED:
            return None, self.err(
                record, "order_closed", "order_id", f"{order.number} is {order.status}: its "
                "parcels came with the order", record.fields["order_id"],
            )  # fmt: skip
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
        shipped = {
            str(line.get("line_id")): int(line.get("quantity") or 0) for line in record.lines
        }
        for fo_line in fo.lines.select_related("order_line"):
            key = fo_line.order_line.external_line_id
            if shipped.get(key, 0) != fo_line.quantity:
                return None, self.err(
                    record, "partial_shipment", "lines.quantity",
                    f"{fo.number} has {fo_line.quantity} of line {key} to ship, the shipment "
                    f"carries {shipped.get(key, 0)}", shipped.get(key, 0),
                )  # fmt: skip
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
            elif order_line.status in (LineStatus.CANCELLED,) or order_line.order.status in CLOSED:
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
            outcome = cancel_line_units(
                order_id=order_line.order_id,
                line_number=order_line.line_number,
                actor=self.actor,
                reason=LEGACY_CANCEL_REASON,
                quantity=quantity,
            )
            number = outcome.order
        return number
