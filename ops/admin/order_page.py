"""The order page for customer service, read side: what `OrderAdmin.render_change_form` puts in
the template's context (templates/admin/ops/order/change_form.html).

One screen tells the order's story: a summary header (status with hold and exception badges,
channel, customer, ship-to, money in the order's currency with its minor units), lines with
per-unit progress, fulfillments with their shipments and tracking, then the panels other
modules register (payments and refunds, returns) and one human timeline whose raw payloads open
on demand. The routing explanation sits in a panel of its own.

Panels are a registry (`register_panel`): a module that owns data about an order (the reverse
flow's payment transactions, returns) adds a panel by giving a template and a context function;
the page shows the registered panels in their `position` order, each only to users who hold
its permission. Actions are registered the same way on `OrderAdmin` (ops/admin/orders.py,
`ORDER_ACTIONS`).
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from babel.numbers import format_currency
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Sum
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime

from fulfillment.models import (
    FulfillmentOrder,
    FulfillmentOrderLine,
    FulfillmentStatus,
    Shipment,
    TrackingEvent,
)
from inventory.models import Reservation, ReservationStatus
from oms.core.money import minor_units
from oms.events import registry
from oms.events.redaction import Masker
from oms.events.selectors import events_for_stream
from ops.models import ExceptionKind
from ops.selectors import open_cases_for_order
from ops.timeline import order_trace
from orders.models import HoldStatus, LineStatus, Order
from orders.selectors import payment_summary, payment_transactions_of
from returns.models import AppeasementReason, ReasonCode, RefundKind
from returns.selectors import returns_of_order

# --- money -------------------------------------------------------------------------------------


def money(amount: Decimal | None, currency: str) -> str:
    """ "$1,234.50", "¥1,200", "KWD 1.500": the currency's minor units, never the 4 stored
    decimals; an empty string for no amount."""
    if amount is None:
        return ""
    try:
        places = minor_units(currency)
    except (ValueError, KeyError):
        places = 2
    quantized = amount.quantize(Decimal(1).scaleb(-places))
    try:
        return format_currency(quantized, currency, locale="en_US", currency_digits=True)
    except (ValueError, KeyError):
        return f"{quantized} {currency}"


def short_time(value: Any) -> str:
    """ "Dec 6, 07:14" in the site's time zone: list columns that fit on one line."""
    return date_format(localtime(value), "M j, H:i") if value else "—"


# --- tracking links ----------------------------------------------------------------------------

CARRIER_TRACKING_URLS = {
    "ups": "https://www.ups.com/track?tracknum={}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={}",
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
    "dhl": "https://www.dhl.com/en/express/tracking.html?AWB={}",
}


def tracking_url(shipment: Shipment, admin_site: str = "admin") -> str:
    """The carrier's public tracking page when the carrier is known, else the shipment's page
    in the console (the simulated carrier of the demo has no public page)."""
    template = CARRIER_TRACKING_URLS.get(shipment.carrier.lower())
    if template:
        return template.format(shipment.tracking_number)
    try:
        return reverse(f"{admin_site}:fulfillment_shipment_change", args=[shipment.pk])
    except NoReverseMatch:
        return ""


# --- panels registry ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    template: str
    context: Callable[[HttpRequest, Order], dict[str, Any]]
    permission: str | None = None
    position: int = 100


PANELS: dict[str, Panel] = {}


def register_panel(panel: Panel) -> Panel:
    """Add (or replace, by key) a panel of the order page."""
    PANELS[panel.key] = panel
    return panel


def panels_for(request: HttpRequest, order: Order) -> list[dict[str, Any]]:
    shown = []
    for panel in sorted(PANELS.values(), key=lambda p: (p.position, p.key)):
        if panel.permission and not request.user.has_perm(panel.permission):
            continue
        shown.append(
            {"key": panel.key, "title": panel.title, "template": panel.template}
            | {"ctx": panel.context(request, order)}
        )
    return shown


# --- summary -----------------------------------------------------------------------------------


def summary(order: Order) -> dict[str, Any]:
    holds = [hold for hold in order.holds.all() if hold.status == HoldStatus.ACTIVE]
    cases = list(open_cases_for_order(order.pk).order_by("id"))
    ship_to = [
        part
        for part in (
            order.ship_name,
            order.ship_line1,
            order.ship_line2,
            " ".join(p for p in (order.ship_city, order.ship_region, order.ship_postal_code) if p),
            order.ship_country,
        )
        if part
    ]
    billing = [str(value) for value in (order.billing_address or {}).values() if value]
    currency = order.currency
    cancelled = _cancelled_value(order)
    return {
        "holds": holds,
        "cases": cases,
        "ship_to": ship_to,
        "billing": billing,
        "totals": [
            ("Subtotal", money(order.subtotal, currency)),
            ("Shipping", money(order.shipping_total, currency)),
            ("Discount", money(-order.discount_total if order.discount_total else None, currency)),
            ("Tax", money(order.tax_total, currency)),
        ],
        "grand_total": money(order.grand_total, currency),
        "cancelled": money(cancelled, currency) if cancelled else "",
    }


def _cancelled_value(order: Order) -> Decimal:
    """What the cancelled units were worth (each line's total, tax and discount included, in
    proportion to its units cancelled): the part of the total that will not be charged."""
    quantum = Decimal(1).scaleb(-minor_units(order.currency))
    value = Decimal(0)
    for line in order.lines.all():
        if line.cancelled_quantity and line.quantity:
            value += (line.total * line.cancelled_quantity / line.quantity).quantize(quantum)
    return value


# --- lines with per-unit progress --------------------------------------------------------------

UNIT_COLUMNS = ("allocated", "shipped", "delivered", "cancelled", "returned", "backordered")
DELIVERED_STATUSES = (FulfillmentStatus.DELIVERED, FulfillmentStatus.PICKED_UP)


def _per_line(queryset: Any, field: str) -> dict[int, int]:
    rows = queryset.values("order_line_id").annotate(n=Sum(field))
    return {row["order_line_id"]: int(row["n"] or 0) for row in rows}


def line_progress(order: Order) -> list[dict[str, Any]]:
    """Per line, units ordered, allocated (held at a node, not yet shipped), shipped, delivered,
    cancelled, returned and backordered. Cancelled and returned quantities come from the line
    when the reverse flow gives it those fields; a cancelled line counts its whole quantity."""
    lines = list(order.lines.order_by("line_number"))
    allocated = _per_line(
        Reservation.objects.filter(order_line__order=order, status=ReservationStatus.ACTIVE),
        "quantity",
    )
    fo_lines = FulfillmentOrderLine.objects.filter(order_line__order=order)
    shipped = _per_line(fo_lines, "shipped_quantity")
    delivered = _per_line(
        fo_lines.filter(fulfillment__status__in=DELIVERED_STATUSES), "shipped_quantity"
    )
    rows = []
    for line in lines:
        cancelled = getattr(line, "cancelled_quantity", None)
        if cancelled is None:
            cancelled = line.quantity if line.status == LineStatus.CANCELLED else 0
        returned = int(getattr(line, "returned_quantity", 0) or 0)
        units = {
            "allocated": allocated.get(line.pk, 0),
            "shipped": shipped.get(line.pk, 0),
            "delivered": delivered.get(line.pk, 0),
            "cancelled": int(cancelled),
            "returned": returned,
        }
        waiting = line.quantity - units["cancelled"] - units["allocated"] - units["shipped"]
        units["backordered"] = max(0, waiting) if line.status == LineStatus.BACKORDERED else 0
        rows.append(
            {
                "line": line,
                "units": units,
                "cells": [(key, units[key]) for key in UNIT_COLUMNS],
                "unit_price": money(line.unit_price, order.currency),
                "total": money(line.total, order.currency),
                "bar": _bar(line.quantity, units),
            }
        )
    return rows


def _bar(quantity: int, units: dict[str, int]) -> list[tuple[str, int]]:
    """Segments of a progress bar, as (kind, percent of the ordered quantity)."""
    if quantity <= 0:
        return []
    delivered = units["delivered"]
    in_transit = max(0, units["shipped"] - delivered)
    segments = [
        ("delivered", delivered),
        ("shipped", in_transit),
        ("allocated", units["allocated"]),
        ("backordered", units["backordered"]),
        ("cancelled", units["cancelled"]),
    ]
    return [(kind, round(100 * n / quantity)) for kind, n in segments if n > 0]


# --- fulfillments and shipments ----------------------------------------------------------------


def fulfillments(order: Order, admin_site: str = "admin") -> list[dict[str, Any]]:
    rows = []
    queryset = (
        FulfillmentOrder.objects.filter(order=order)
        .select_related("node")
        .prefetch_related("lines__order_line", "shipments")
        .order_by("id")
    )
    for fo in queryset:
        parcels = []
        for shipment in fo.shipments.all():
            latest = (
                TrackingEvent.objects.filter(shipment=shipment)
                .order_by("-occurred_at", "-id")
                .first()
            )
            parcels.append(
                {
                    "shipment": shipment,
                    "url": tracking_url(shipment, admin_site),
                    "latest": latest,
                }
            )
        rows.append(
            {
                "fo": fo,
                "url": _admin_url(admin_site, "fulfillment_fulfillmentorder_change", fo.pk),
                "lines": [
                    f"#{fl.order_line.line_number} {fl.order_line.sku} ×{fl.quantity}"
                    for fl in fo.lines.all()
                ],
                "parcels": parcels,
            }
        )
    return rows


def _admin_url(site: str, name: str, pk: Any) -> str:
    try:
        return reverse(f"{site}:{name}", args=[pk])
    except NoReverseMatch:
        return ""


# --- one human timeline ------------------------------------------------------------------------


def _sentence(event_type: str, payload: dict[str, Any]) -> str:
    p = payload or {}
    match event_type:
        case "order.created":
            lines = p.get("lines") or []
            return f"Order captured with {len(lines)} line(s)."
        case "order.hold_placed":
            return f"{str(p.get('kind', '')).title()} hold placed: {p.get('reason') or '—'}"
        case "order.hold_released":
            note = p.get("note") or "no note"
            return f"{str(p.get('kind', '')).title()} hold released ({note})."
        case "order.status_changed":
            return f"Status {p.get('from', '?')} → {p.get('to', '?')}."
        case "order.routed":
            parts = [
                f"{a.get('sku')} ×{a.get('quantity')} from {a.get('node')}"
                for a in p.get("allocations") or []
            ]
            return "Routed: " + ("; ".join(parts) or "nothing new")
        case "order.backordered":
            parts = [f"{a.get('sku')} ×{a.get('quantity')}" for a in p.get("lines") or []]
            return "Backordered: " + ("; ".join(parts) or "—")
        case "order.line_cancelled":
            return (
                f"Line {p.get('line_number')} ({p.get('sku')}) cancelled: {p.get('reason') or '—'}"
            )
        case "order.payment_captured":
            amount = p.get("amount")
            currency = p.get("currency") or ""
            shown = money(Decimal(str(amount)), currency) if amount and currency else amount
            return f"Payment captured: {shown}."
        case "fulfillment.shipped":
            packages = p.get("packages") or []
            numbers = ", ".join(
                f"{pkg.get('carrier')} {pkg.get('tracking_number')}" for pkg in packages
            )
            return f"{p.get('fulfillment')} shipped from {p.get('node')}: {numbers or '—'}"
        case "shipment.tracking_updated":
            where = f" at {p.get('location')}" if p.get("location") else ""
            status = str(p.get("status", "")).replace("_", " ")
            return f"{p.get('carrier')} {p.get('tracking_number')}: {status}{where}"
        case "exception.raised":
            return f"Exception #{p.get('case_id')} opened: {_kind(p)} — {p.get('summary', '')}"
        case "exception.assigned" | "exception.progressed" | "exception.resolved":
            verb = event_type.split(".", 1)[1]
            note = f": {p['note']}" if p.get("note") else ""
            return f"Exception #{p.get('case_id')} ({_kind(p)}) {verb}{note}"
        case "exception.dismissed":
            return f"Exception #{p.get('case_id')} ({_kind(p)}) dismissed"
        case "order.note_added":
            return f"Note added by {p.get('by', '?')} (see Notes above)"
        case "order.confirmation_resent":
            why = f": {p['reason']}" if p.get("reason") else ""
            return f"Order confirmation sent to the customer again{why}"
        case "order.manual_touch":
            remedy = str(p.get("remedy", "")).replace("_", " ")
            return f"Remedy applied from the exception console: {remedy}"
    if event_type.startswith("fulfillment.") and p.get("fulfillment"):
        verb = event_type.split(".", 1)[1].replace("_", " ")
        reason = f": {p['reason']}" if p.get("reason") else ""
        node = f" at {p['node']}" if p.get("node") else ""
        return f"{p['fulfillment']} {verb}{node}{reason}"
    try:
        return registry.get(event_type).description
    except LookupError:
        return event_type


def _kind(payload: dict[str, Any]) -> str:
    kind = str(payload.get("kind", ""))
    return str(ExceptionKind(kind).label) if kind in ExceptionKind.values else kind


def timeline(order: Order) -> list[dict[str, Any]]:
    """Events (a sentence each, the masked payload on demand) merged by time with what the
    trace knows besides events: inbound messages, exception cases, webhook deliveries."""
    masker = Masker.for_streams([order.stream])
    rows: list[dict[str, Any]] = []
    for event in events_for_stream(order.stream):
        payload = masker.payload(event.stream, event.payload)
        rows.append(
            {
                "at": event.occurred_at,
                "source": "event",
                "type": event.type,
                "text": _sentence(event.type, payload),
                "who": event.actor_label or event.actor_kind,
                "correlation_id": event.correlation_id,
                "raw": json.dumps(payload, indent=2, sort_keys=True, cls=DjangoJSONEncoder),
            }
        )
    for entry in order_trace(order):
        if entry.source in ("event", "routing", "exception") or entry.source.startswith("hold"):
            continue  # told by the events themselves
        rows.append(
            {
                "at": entry.at,
                "source": entry.source,
                "type": entry.source,
                "text": f"{entry.title}: {entry.detail}" if entry.detail else entry.title,
                "who": "",
                "correlation_id": entry.correlation_id,
                "raw": "",
            }
        )
    rows.sort(key=lambda row: row["at"], reverse=True)
    return rows


# --- the panels this module knows today --------------------------------------------------------


REFUND_REASON_LABELS = {
    RefundKind.RETURN.value: ("Return", dict(ReasonCode.choices)),
    RefundKind.APPEASEMENT.value: ("Goodwill", dict(AppeasementReason.choices)),
}


def payment_reason(reason: str) -> str:
    """A transaction's reason in words: the refunds service records `<kind>:<reason code>`
    (`return:size_fit` reads "Return: Size or fit"); anything else is shown as written."""
    kind, _, code = reason.partition(":")
    if kind not in REFUND_REASON_LABELS:
        return reason
    title, labels = REFUND_REASON_LABELS[kind]
    return f"{title}: {labels.get(code, code)}" if code else title


def payments_panel(request: HttpRequest, order: Order) -> dict[str, Any]:
    """The order's money from its payment transactions (orders/services/payments.py): the
    totals of payment_summary and one row per provider call, newest first."""
    figures = payment_summary(order)
    rows = [
        {
            "at": txn.created_at,
            "kind": txn.get_kind_display(),
            "amount": money(txn.amount, txn.currency),
            "status": txn.status,
            "status_label": txn.get_status_display(),
            "detail": " · ".join(
                part
                for part in (
                    f"shipment {txn.shipment_reference}" if txn.shipment_reference else "",
                    payment_reason(txn.reason),
                    txn.error_message or txn.error_code,
                )
                if part
            ),
            "reference": txn.provider_reference,
        }
        for txn in reversed(payment_transactions_of(order))
    ]
    return {
        "authorized": money(figures.authorized, order.currency) if figures.authorized else "",
        "captured": money(figures.captured, order.currency) if figures.captured else "",
        "refunded": money(figures.refunded, order.currency) if figures.refunded else "",
        "refundable": money(figures.refundable, order.currency) if figures.refundable else "",
        "voided": money(figures.voided, order.currency) if figures.voided else "",
        "rows": rows,
    }


register_panel(
    Panel(
        key="payments",
        title="Payments & refunds",
        template="admin/ops/order/panel_payments.html",
        context=payments_panel,
        permission="orders.view_order",
        position=10,
    )
)


def returns_panel(request: HttpRequest, order: Order) -> dict[str, Any]:
    """The order's returns (returns/): status, lines, tracking back, refunds and exchange, each
    linked to its page in the console."""
    rows = []
    for rma in returns_of_order(order.pk):
        try:
            url = reverse("admin:returns_return_change", args=[rma.pk])
        except NoReverseMatch:
            url = ""
        refunded = sum((r.amount for r in rma.refunds.all() if r.status == "succeeded"), Decimal(0))
        rows.append(
            {
                "number": rma.number,
                "url": url,
                "status": rma.get_status_display(),
                "lines": ", ".join(
                    f"{line.quantity} × {line.order_line.sku}" for line in rma.lines.all()
                ),
                "tracking": rma.tracking_number,
                "refunded": money(refunded, rma.currency) if refunded else "",
                "exchange": rma.get_exchange_kind_display() if rma.exchange_kind else "",
            }
        )
    return {"rows": rows}


register_panel(
    Panel(
        key="returns",
        title="Returns",
        template="admin/ops/order/panel_returns.html",
        context=returns_panel,
        permission="returns.view_return",
        position=20,
    )
)
