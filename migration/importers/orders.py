"""Orders, in two kinds, chosen by the record's status:

- history (shipped, delivered, completed, cancelled): written in their final state through
  orders/services/history.py and fulfillment/services/history.py, with no routing, reserving
  or sending, and events at the source's times;
- in flight (open; or held: captured with the legacy hold, see IN_FLIGHT; or partially
  shipped, see PARTIAL): captured like any
  order (orders.services.capture.capture_order), and in the same transaction reserved at the
  node the legacy system allocated (inventory.reservations), so orchestration, on commit, makes
  the fulfillment order there and the order carries on as a native one (a held order waits for
  its hold's release). Without a legacy node the order is routed by the active rule set. While
  the channel is mid-cutover (an active plan other than `oms`), an open order is the legacy
  system's: it is mirrored instead (not reserved, never handed back) and its legacy node is
  recorded as the legacy decision the shadow run compares with.

A partially shipped order (`partially_shipped`, Shopify's `Fulfillment Status: partial`) says per
line what shipped: a line whose status is `shipped` shipped whole, a line `open` shipped
nothing (Shopify's `Lineitem fulfillment status`: fulfilled / pending). It is captured in flight
with every line; the open lines are reserved at the legacy node, and the shipped lines are
written as history in the same transaction (fulfillment/services/history.py
record_shipped_part: a finished fulfillment order at the node that shipped them, reservations
written consumed, no stock moves, the order rolled up to partially shipped). Any other line
status (a line that shipped in part, or says nothing) leaves the order ambiguous: refused
`ambiguous_partial_fulfillment`, like an order whose lines all say shipped or all say open.

Order-level discounts (a header discount, or a discount "item" with no SKU) are spread over the
lines, largest first, because oms keeps discounts on lines; header tax goes on the first line.
"""

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from fulfillment.services.history import (
    HistoricShipment,
    record_historic_fulfillment,
    record_historic_fulfillments,
    record_shipped_part,
)
from inventory.models import Node, Product, StockLevel
from inventory.reservations import ReservationRequest, reserve
from migration.importers.base import Importer
from migration.importers.catalogue import ProductResolver
from migration.mapping.extract import CanonicalRecord, RowError
from migration.models import CutoverMode
from migration.selectors import cutover_status
from migration.services.shadow import LegacyAllocation, mirror_legacy_order
from oms.core.errors import DomainError
from oms.core.money import has_valid_scale, is_known_currency
from orders.models import Channel, DeliveryMethod, HoldKind, LineStatus, Order, OrderStatus
from orders.services.capture import AddressInput, LineInput, OrderInput, capture_order
from orders.services.history import (
    HistoricLine,
    HistoricOrder,
    WrittenOrder,
    record_historic_order,
    record_historic_orders,
)

STATUSES = {"open", "held", "partially_shipped", "shipped", "delivered", "completed", "cancelled"}
# In flight: captured and reserved at the legacy node; `held` also gets a hold (kind from the
# record's `hold`, else manual), so nothing routes or releases it until a person releases it.
# `partially_shipped`: in flight for its open lines, history for its shipped ones.
PARTIAL = "partially_shipped"
IN_FLIGHT = ("open", "held", PARTIAL)
# A partially shipped order's lines: shipped whole, or not at all (module docstring).
PARTIAL_LINE_STATUSES = ("shipped", "open")
LEGACY_HOLD_REASON = "held in the legacy system"
LINE_STATUS_OF = {
    "shipped": LineStatus.SHIPPED,
    "delivered": LineStatus.DELIVERED,
    "completed": LineStatus.DELIVERED,
    "cancelled": LineStatus.CANCELLED,
}
ZERO = Decimal("0")


class LegacyNodeShort(DomainError):
    pass


@dataclass
class PlannedLine:
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    discount: Decimal
    tax: Decimal
    line_id: str
    node: str
    status: str

    @property
    def total(self) -> Decimal:
        return self.quantity * self.unit_price - self.discount


@dataclass
class Plan:
    lines: list[PlannedLine] = field(default_factory=list)
    grand_total: Decimal = ZERO


class OrderImporter(Importer):
    target_type = "order"
    # Orders written together in one transaction (history: a few COPYs per batch); a refused
    # one makes the runner write the batch again in parts of 100, and a refused part order by
    # order (services/runs.py flush()).
    batch_size = 1000
    grows = (Order,)

    def rolled_back(self) -> None:
        self.products.forget()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.products = ProductResolver(self.mapping.options.create_missing_products)
        self.channels: dict[str, Channel | None] = {}
        self.nodes: dict[str, Node | None] = {}
        self.existing: set[tuple[int, str]] = set()

    def _channel(self, code: str) -> Channel | None:
        if code not in self.channels:
            self.channels[code] = Channel.objects.filter(code=code).first()
        return self.channels[code]

    def _node(self, code: str) -> Node | None:
        if code not in self.nodes:
            self.nodes[code] = Node.objects.filter(code=code).first()
        return self.nodes[code]

    def prefetch(self, records: list[CanonicalRecord]) -> None:
        """The orders oms already has for these (channel, source id) pairs: one query."""
        by_channel: dict[int, list[str]] = {}
        for record in records:
            channel = self._channel(str(record.fields["channel"]))
            if channel is not None:
                by_channel.setdefault(channel.pk, []).append(record.source_id)
        self.existing = set()
        for channel_id, ids in by_channel.items():
            self.existing.update(
                Order.objects.filter(channel_id=channel_id, external_id__in=ids).values_list(
                    "channel_id", "external_id"
                )
            )

    def conflict(self, record: CanonicalRecord) -> RowError | None:
        channel = self._channel(str(record.fields["channel"]))
        if channel and (channel.pk, record.source_id) in self.existing:
            return self.err(
                record,
                "order_exists",
                "source_id",
                f"channel {channel.code} already has this order",
            )
        return None

    # --- checks ----------------------------------------------------------------------------
    def check(self, record: CanonicalRecord) -> list[RowError]:
        f = record.fields
        errors: list[RowError] = []
        if f.get("document_type") not in (None, "sales"):
            errors.append(
                self.err(record, "not_a_sales_order", "document_type", "", f["document_type"])
            )
        channel = self._channel(str(f["channel"]))
        if channel is None:
            errors.append(
                self.err(record, "unknown_channel", "channel", "no such channel", f["channel"])
            )
        status = str(f["status"])
        if status not in STATUSES:
            errors.append(
                self.err(record, "bad_status", "status", f"not one of {sorted(STATUSES)}", status)
            )
        currency = str(f["currency"])
        if not is_known_currency(currency):
            errors.append(self.err(record, "unknown_currency", "currency", "", currency))
            return errors
        placed_at: datetime = f["placed_at"]
        for name in ("shipped_at", "delivered_at", "cancelled_at"):
            when = f.get(name)
            if isinstance(when, datetime) and when < placed_at:
                errors.append(
                    self.err(
                        record,
                        "dates_out_of_order",
                        name,
                        f"{when.isoformat()} is before placed_at {placed_at.isoformat()}",
                    )
                )
        if f.get("shipped_at") and f.get("delivered_at") and f["delivered_at"] < f["shipped_at"]:
            errors.append(
                self.err(record, "dates_out_of_order", "delivered_at", "before shipped_at")
            )
        plan, plan_errors = self._plan(record)
        errors += plan_errors
        if errors:
            return errors
        errors += self._check_delivery(record, status)
        if status == PARTIAL:
            errors += self._check_partial(record, plan)
        errors += self._check_totals(record, plan)
        errors += self._check_hold(record, status)
        if not errors and status in IN_FLIGHT:
            errors += self._check_legacy_node(record, plan)
        if not errors:
            record.plan = plan
            self.report.money[currency] += plan.grand_total
        return errors

    def _plan(self, record: CanonicalRecord) -> tuple[Plan, list[RowError]]:
        f = record.fields
        errors = []
        plan = Plan()
        currency = str(f["currency"])
        adjustments = -sum(
            (
                Decimal(line["quantity"] or 1) * line["unit_price"]
                for line in record.lines
                if line.get("is_adjustment") and line.get("unit_price") is not None
            ),
            ZERO,
        )
        for line in record.lines:
            if line.get("is_adjustment"):
                continue
            quantity = line["quantity"]
            if not isinstance(quantity, int) or quantity <= 0:
                errors.append(
                    self.err(
                        record,
                        "bad_quantity",
                        "lines.quantity",
                        "not a positive count",
                        quantity,
                        line=line["_line"],
                    )
                )
                continue
            for name in ("unit_price", "discount", "tax"):
                amount = line.get(name)
                if amount is not None and not has_valid_scale(amount, currency):
                    errors.append(
                        self.err(
                            record,
                            "bad_amount",
                            f"lines.{name}",
                            f"more decimals than {currency} has",
                            amount,
                            line=line["_line"],
                        )
                    )
            sku = str(line["sku"])
            if not self.products.known_or_planned(sku):
                errors.append(
                    self.err(
                        record,
                        "unknown_sku",
                        "lines.sku",
                        "no such product",
                        sku,
                        line=line["_line"],
                    )
                )
                continue
            if self.dry_run:
                self.products.ensure(sku, str(line.get("product_name") or ""), dry_run=True)
            plan.lines.append(
                PlannedLine(
                    sku=sku,
                    name=str(line.get("name") or line.get("product_name") or sku),
                    quantity=quantity,
                    unit_price=line["unit_price"],
                    discount=line.get("discount") or ZERO,
                    tax=line.get("tax") or ZERO,
                    line_id=str(line.get("line_id") or ""),
                    node=str(line.get("ship_node") or f.get("ship_node") or ""),
                    status=str(line.get("status") or ""),
                )
            )
        if errors:
            return plan, errors
        spread = adjustments + (f.get("discount_total") or ZERO)
        for planned in sorted(plan.lines, key=lambda p: p.total, reverse=True):
            take = min(spread, planned.total)
            planned.discount += take
            spread -= take
        if spread > 0:
            errors.append(
                self.err(
                    record,
                    "discount_unallocatable",
                    "discount_total",
                    f"{spread} of discount is more than the lines' total",
                )
            )
        if plan.lines and f.get("tax_total"):
            plan.lines[0].tax += f["tax_total"]
        plan.grand_total = sum((p.total + p.tax for p in plan.lines), ZERO) + (
            f.get("shipping_total") or ZERO
        )
        return plan, errors

    def _check_totals(self, record: CanonicalRecord, plan: Plan) -> list[RowError]:
        header = record.fields.get("grand_total")
        if header is None or header == plan.grand_total:
            return []
        error = self.err(
            record,
            "totals_mismatch",
            "grand_total",
            f"lines + shipping + tax - discounts = {plan.grand_total}, header says {header}",
            header,
        )
        if self.mapping.options.totals == "warn":
            self.report.warn(error)
            return []
        return [error]

    def _check_delivery(self, record: CanonicalRecord, status: str) -> list[RowError]:
        f = record.fields
        errors = []
        method = f.get("delivery_method") or DeliveryMethod.SHIP
        if method not in DeliveryMethod.values:
            return [self.err(record, "bad_delivery_method", "delivery_method", "", method)]
        if method == DeliveryMethod.SHIP and not f.get("ship_line1"):
            errors.append(
                self.err(record, "missing_address", "ship_line1", "shipping needs an address")
            )
        if method != DeliveryMethod.SHIP and self._node(str(f.get("pickup_node") or "")) is None:
            errors.append(
                self.err(
                    record, "unknown_node", "pickup_node", "no such node", f.get("pickup_node")
                )
            )
        if status in ("shipped", "delivered", "completed", PARTIAL):
            node = f.get("ship_node")
            if not node or self._node(str(node)) is None:
                errors.append(
                    self.err(
                        record,
                        "unknown_node",
                        "ship_node",
                        "history needs the node that shipped it",
                        node,
                    )
                )
        return errors

    def _check_partial(self, record: CanonicalRecord, plan: Plan) -> list[RowError]:
        """Which units shipped must be known per line: each line shipped whole or not at all,
        and some of each (else the source's order status and its lines disagree)."""
        unclear = [p for p in plan.lines if p.status not in PARTIAL_LINE_STATUSES]
        if unclear:
            return [
                self.err(
                    record,
                    "ambiguous_partial_fulfillment",
                    "lines.status",
                    f"a partially shipped order's line must say shipped or open; {p.sku} says "
                    f"{p.status or 'nothing'}, so which of its units shipped is unknown",
                    p.status,
                )
                for p in unclear
            ]
        statuses = {p.status for p in plan.lines}
        if statuses != set(PARTIAL_LINE_STATUSES):
            return [
                self.err(
                    record,
                    "ambiguous_partial_fulfillment",
                    "lines.status",
                    f"the order says partially shipped but every line says {statuses.pop()}",
                )
            ]
        return []

    @staticmethod
    def _hold(record: CanonicalRecord) -> tuple[str, str] | None:
        """(kind, reason) of the hold the order had in the legacy system, or None."""
        f = record.fields
        kind = str(f.get("hold") or "")
        if not kind and f["status"] != "held":
            return None
        return kind or HoldKind.MANUAL, str(f.get("hold_reason") or LEGACY_HOLD_REASON)[:200]

    def _check_hold(self, record: CanonicalRecord, status: str) -> list[RowError]:
        hold = self._hold(record)
        if hold is None:
            return []
        if hold[0] not in HoldKind.values:
            return [
                self.err(
                    record, "bad_hold", "hold", f"not one of {sorted(HoldKind.values)}", hold[0]
                )
            ]
        if status not in IN_FLIGHT:
            return [
                self.err(record, "bad_hold", "hold", f"a {status} order cannot be held", hold[0])
            ]
        return []

    def _check_legacy_node(self, record: CanonicalRecord, plan: Plan) -> list[RowError]:
        errors = []
        needed: dict[tuple[str, str], int] = {}
        for line in _open_lines(record, plan):
            if line.node:
                needed[(line.node, line.sku)] = needed.get((line.node, line.sku), 0) + line.quantity
        for (code, sku), quantity in needed.items():
            node = self._node(code)
            if node is None:
                errors.append(self.err(record, "unknown_node", "ship_node", "no such node", code))
                continue
            product = self.products.find(sku)
            level = (
                StockLevel.objects.filter(node=node, product=product).first() if product else None
            )
            if level is None or level.available < quantity:
                errors.append(
                    self.err(
                        record,
                        "legacy_node_short",
                        "ship_node",
                        f"{code} has {level.available if level else 0} of {sku} available, "
                        f"the legacy allocation is {quantity}",
                    )
                )
        return errors

    # --- writes ----------------------------------------------------------------------------
    def create(self, record: CanonicalRecord) -> str:
        return self.create_many([record])[0]

    def create_many(self, records: list[CanonicalRecord]) -> list[str]:
        """History in a few statements for the whole batch; in-flight orders one by one
        through capture (each in the caller's transaction)."""
        numbers: dict[int, str] = {}
        history = [r for r in records if r.fields["status"] not in IN_FLIGHT]
        if len(history) == 1:
            numbers[id(history[0])] = self._history(history[0]).number
        elif history:
            for record, order in zip(history, self._histories(history), strict=True):
                numbers[id(record)] = order.number
        for record in records:
            if record.fields["status"] in IN_FLIGHT:
                numbers[id(record)] = self._capture(record).number
        return [numbers[id(record)] for record in records]

    def _products(self, plan: Plan) -> dict[str, Product]:
        return {line.sku: self.products.get_or_create(line.sku, line.name) for line in plan.lines}

    def _channel_of(self, record: CanonicalRecord) -> Channel:
        channel = self._channel(str(record.fields["channel"]))
        if channel is None:
            raise RuntimeError("checked before")
        return channel

    def _address(self, f: dict[str, Any]) -> dict[str, str]:
        return {
            key: str(f.get(f"ship_{key}") or "")
            for key in ("name", "line1", "line2", "city", "region", "postal_code", "country")
        }

    def _historic_order(self, record: CanonicalRecord) -> HistoricOrder:
        plan: Plan = record.plan
        products = self._products(plan)
        f = record.fields
        status = str(f["status"])
        line_status = LINE_STATUS_OF[status]
        return HistoricOrder(
            external_id=record.source_id,
            placed_at=f["placed_at"],
            currency=str(f["currency"]),
            status=OrderStatus(status),
            customer_name=str(f["customer_name"]),
            lines=[
                HistoricLine(
                    product=products[p.sku],
                    name=p.name,
                    quantity=p.quantity,
                    unit_price=p.unit_price,
                    discount=p.discount,
                    tax=p.tax,
                    status=line_status,
                    external_line_id=p.line_id,
                )
                for p in plan.lines
            ],
            source=self.mapping.source,
            payment_status=str(f.get("payment_status") or "paid"),
            payment_method=str(f.get("payment_method") or ""),
            customer_email=str(f.get("customer_email") or ""),
            customer_phone=str(f.get("customer_phone") or ""),
            delivery_method=str(f.get("delivery_method") or DeliveryMethod.SHIP),
            pickup_node=self._node(str(f.get("pickup_node") or "")),
            ship_address=self._address(f),
            shipping_total=f.get("shipping_total") or ZERO,
            discount_total=sum((p.discount for p in plan.lines), ZERO),
            tax_total=sum((p.tax for p in plan.lines), ZERO),
            grand_total=plan.grand_total,
            cancelled_at=f.get("cancelled_at")
            or (f["placed_at"] if status == "cancelled" else None),
            notes=str(f.get("notes") or ""),
        )

    def _shipment(self, record: CanonicalRecord) -> HistoricShipment | None:
        """The legacy shipment of a history record; None for a cancelled order."""
        f = record.fields
        if f["status"] == "cancelled":
            return None
        node = self._node(str(f["ship_node"]))
        if node is None:
            raise RuntimeError("checked before")
        return HistoricShipment(
            node=node,
            shipped_at=f.get("shipped_at") or f["placed_at"],
            delivered_at=f.get("delivered_at"),
            carrier=str(f.get("carrier") or ""),
            service=str(f.get("service") or ""),
            tracking_number=str(f.get("tracking_number") or ""),
        )

    def _history(self, record: CanonicalRecord) -> Order:
        order, lines = record_historic_order(
            channel=self._channel_of(record), data=self._historic_order(record), actor=self.actor
        )
        shipment = self._shipment(record)
        if shipment is not None:
            record_historic_fulfillment(
                order=order, lines=lines, shipment=shipment, actor=self.actor
            )
        return order

    def _histories(self, records: list[CanonicalRecord]) -> list[WrittenOrder]:
        written = record_historic_orders(
            items=[(self._channel_of(r), self._historic_order(r)) for r in records],
            actor=self.actor,
        )
        shipped = []
        for record, (order, lines) in zip(records, written, strict=True):
            shipment = self._shipment(record)
            if shipment is not None:
                shipped.append((order, lines, shipment))
        if shipped:
            record_historic_fulfillments(items=shipped, actor=self.actor)
        return [order for order, _ in written]

    def _capture(self, record: CanonicalRecord) -> Order:
        plan: Plan = record.plan
        products = self._products(plan)
        channel = self._channel_of(record)
        f = record.fields
        method = str(f.get("delivery_method") or DeliveryMethod.SHIP)
        address = self._address(f)
        data = OrderInput(
            external_id=record.source_id,
            placed_at=f["placed_at"],
            currency=str(f["currency"]),
            customer_name=str(f["customer_name"]),
            lines=[
                LineInput(
                    sku=products[p.sku].sku,
                    quantity=p.quantity,
                    unit_price=p.unit_price,
                    discount=p.discount,
                    tax=p.tax,
                    external_line_id=p.line_id,
                )
                for p in plan.lines
            ],
            customer_email=str(f.get("customer_email") or ""),
            customer_phone=str(f.get("customer_phone") or ""),
            delivery_method=method,
            pickup_node_code=str(f.get("pickup_node") or "")
            if method != DeliveryMethod.SHIP
            else "",
            shipping_address=(
                AddressInput(
                    name=address["name"],
                    line1=address["line1"],
                    line2=address["line2"],
                    city=address["city"],
                    region=address["region"],
                    postal_code=address["postal_code"],
                    country=address["country"],
                )
                if method == DeliveryMethod.SHIP
                else None
            ),
            shipping_total=f.get("shipping_total") or ZERO,
            payment_status=str(f.get("payment_status") or "pending"),
            payment_method=str(f.get("payment_method") or ""),
            notes=str(f.get("notes") or ""),
            holds=(hold,) if (hold := self._hold(record)) else (),
        )
        if cutover_status(channel).mode != CutoverMode.OMS:
            return self._mirror(record, channel, dataclasses.replace(data, legacy_mirror=True))
        order = capture_order(channel=channel, data=data, actor=self.actor)
        lines = list(order.lines.order_by("line_number"))
        requests = []
        shipped = []
        for planned, line in zip(plan.lines, lines, strict=True):
            node = self._node(planned.node) if planned.node else None
            if f["status"] == PARTIAL and planned.status == "shipped":
                shipped.append(line)
            elif node is not None:
                requests.append(
                    ReservationRequest(node.pk, line.product_id, line.quantity, line.pk)
                )
        results = reserve(requests=requests, actor=self.actor, reference_id=order.number)
        if any(result is None for result in results):
            raise LegacyNodeShort("legacy_node_short", "the legacy node no longer has the stock")
        if shipped:
            shipment = self._shipment(record)
            if shipment is None:
                raise RuntimeError("checked before")
            record_shipped_part(order=order, lines=shipped, shipment=shipment, actor=self.actor)
        return order

    def _mirror(self, record: CanonicalRecord, channel: Channel, data: OrderInput) -> Order:
        """The channel is mid-cutover: the legacy system still works on this open order, so
        it is mirrored (never reserved here, never handed back) and the node it allocated
        becomes the legacy decision the shadow run compares with (docs/migration.md); of a
        partially shipped order, only its open lines are the decision."""
        plan: Plan = record.plan
        still_open = [id(line) for line in _open_lines(record, plan)]
        allocations = [
            LegacyAllocation(node=planned.node, sku=line.sku, quantity=line.quantity)
            for planned, line in zip(plan.lines, data.lines, strict=True)
            if planned.node and id(planned) in still_open
        ]
        return mirror_legacy_order(
            channel=channel,
            data=data,
            allocations=allocations,
            actor=self.actor,
            source=self.mapping.name,
        )


def _open_lines(record: CanonicalRecord, plan: Plan) -> list[PlannedLine]:
    """The lines still to ship: all of them, except a partially shipped order's shipped ones."""
    if record.fields["status"] != PARTIAL:
        return plan.lines
    return [line for line in plan.lines if line.status != "shipped"]
