"""The admin home page (unfold DASHBOARD_CALLBACK): turns the KPI selectors' results into
display-ready cards, tables and chart data. No queries here beyond calling the selectors (which
work on PostgreSQL and on the SQLite demo alike); the template (templates/admin/index.html)
only renders."""

import json
import logging
from datetime import date, datetime, time, timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from channels.services.health import channel_health
from inventory.selectors import inventory_accuracy, inventory_accuracy_between
from ops.kpis import selectors, sources
from ops.kpis.returns import RETURN_CHANNEL_HEADERS, return_cards, return_channel_rows
from ops.kpis.selectors import Figures, KpiReport

logger = logging.getLogger(__name__)

PALETTE = ["#2563eb", "#16a34a", "#f59e0b", "#db2777", "#7c3aed", "#0891b2", "#dc2626"]
STALE_FEED_HOURS = 24
CHART_OPTIONS = {
    "animation": False,
    "responsive": True,
    "maintainAspectRatio": False,
    "plugins": {"legend": {"display": True, "position": "top", "align": "end"}},
    "scales": {
        "x": {"stacked": True, "grid": {"display": False}},
        "y": {"stacked": True, "beginAtZero": True},
    },
}
LINE_OPTIONS = {
    **CHART_OPTIONS,
    "scales": {"x": {"grid": {"display": False}}, "y": {"beginAtZero": True}},
}


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}%"


def hours(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.1f} h" if value < 48 else f"{value / 24:.1f} d"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def kpi_cards(report: KpiReport, today: date) -> list[dict[str, str]]:
    day, period = report.get(today), report.get()

    def card(title: str, now: str, total: str, help_text: str) -> dict[str, str]:
        return {"title": title, "today": now, "period": total, "help": help_text}

    return [
        card("Orders captured", f"{day.orders:,}", f"{period.orders:,}", "by day placed"),
        card(
            "Order → ship p50 / p90",
            f"{hours(day.ship_p50_hours)} / {hours(day.ship_p90_hours)}",
            f"{hours(period.ship_p50_hours)} / {hours(period.ship_p90_hours)}",
            f"{period.shipped_orders:,} orders shipped",
        ),
        card(
            "On-time ship rate",
            pct(day.on_time_rate),
            pct(period.on_time_rate),
            "shipped by ship-by",
        ),
        card("Split shipments", pct(day.split_rate), pct(period.split_rate), "of shipped orders"),
        card(
            "Cancellation rate",
            pct(day.cancellation_rate),
            pct(period.cancellation_rate),
            "of orders placed",
        ),
        card(
            "Backorder rate",
            pct(day.backorder_rate),
            pct(period.backorder_rate),
            "ever backordered",
        ),
        card(
            "Manual touches / 100 orders",
            f"{day.touches_per_100 or 0:.1f}",
            f"{period.touches_per_100 or 0:.1f}",
            "remedies and edits",
        ),
    ]


def inventory_card(start: date, end: date) -> dict[str, str]:
    """Inventory accuracy: node×SKU pairs whose oms count is within tolerance of the node's own
    count, over each node's latest reconciliation (now) and every reconciliation of the period."""
    latest = inventory_accuracy()
    tz = timezone.get_current_timezone()
    period = inventory_accuracy_between(
        datetime.combine(start, time.min, tzinfo=tz),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
    )
    if latest is None:
        return {
            "title": "Inventory accuracy",
            "today": "–",
            "period": pct(period),
            "help": "no reconciliation yet",
        }
    return {
        "title": "Inventory accuracy",
        "today": pct(latest.rate),
        "period": pct(period),
        "help": f"{latest.within_tolerance:,} of {latest.pairs:,} SKU×node in tolerance",
    }


def channel_rows(report: KpiReport) -> list[dict[str, Any]]:
    rows = []
    for channel_id, code in [*report.channels.items(), (None, "All channels")]:
        f: Figures = report.get(channel=channel_id)
        if channel_id is not None and not (f.orders or f.shipped_orders):
            continue
        rows.append(
            {
                "channel": code,
                "total": channel_id is None,
                "cells": [
                    f"{f.orders:,}",
                    f"{f.shipped_orders:,}",
                    hours(f.ship_p50_hours),
                    hours(f.ship_p90_hours),
                    pct(f.on_time_rate),
                    pct(f.split_rate),
                    pct(f.cancellation_rate),
                    pct(f.backorder_rate),
                    f"{f.touches_per_100 or 0:.1f}",
                ],
            }
        )
    return rows


def charts(report: KpiReport) -> dict[str, str]:
    labels = [d.strftime("%b %d") for d in report.days]
    active = [
        (cid, code) for cid, code in report.channels.items() if report.get(channel=cid).orders
    ]
    orders = {
        "labels": labels,
        "datasets": [
            {
                "label": code,
                "data": [report.get(d, cid).orders for d in report.days],
                "backgroundColor": PALETTE[i % len(PALETTE)],
                "maxBarThickness": 28,
                "borderRadius": 3,
            }
            for i, (cid, code) in enumerate(active)
        ],
    }
    ship_time = {
        "labels": labels,
        "datasets": [
            {
                "label": label,
                "data": [_round(getattr(report.get(d), attr)) for d in report.days],
                "borderColor": color,
                "backgroundColor": color,
                "spanGaps": True,
            }
            for label, attr, color in (
                ("p50 hours", "ship_p50_hours", PALETTE[0]),
                ("p90 hours", "ship_p90_hours", PALETTE[2]),
            )
        ],
    }
    rates = {
        "labels": labels,
        "datasets": [
            {
                "label": label,
                "data": [_round(getattr(report.get(d), attr)) for d in report.days],
                "borderColor": color,
                "backgroundColor": color,
                "spanGaps": True,
            }
            for label, attr, color in (
                ("on-time %", "on_time_rate", PALETTE[1]),
                ("split %", "split_rate", PALETTE[4]),
                ("cancelled %", "cancellation_rate", PALETTE[6]),
                ("backordered %", "backorder_rate", PALETTE[2]),
            )
        ],
    }
    return {
        "orders": json.dumps(orders),
        "ship_time": json.dumps(ship_time),
        "rates": json.dumps(rates),
        "bar_options": json.dumps(CHART_OPTIONS),
        "line_options": json.dumps(LINE_OPTIONS),
    }


def feed_rows(now: Any) -> list[dict[str, Any]]:
    return [
        {
            "node": lag.node,
            "name": lag.name,
            "last": lag.last_reported_at,
            "lag": hours(lag.lag_hours) if lag.lag_hours is not None else "never reported",
            "stale": lag.lag_hours is None or lag.lag_hours > STALE_FEED_HOURS,
        }
        for lag in selectors.inventory_feed_lag(now)
    ]


def sales_channel_rows() -> list[dict[str, Any]]:
    """Per sales channel connected to a platform: last message in, last call out, refusals
    and dead calls, calls waiting and the oldest one's age (channels/services/health.py)."""
    return [
        {
            "code": h.code,
            "platform": h.platform,
            "last_in": h.last_in_at,
            "last_out": h.last_out_at,
            "refused_in": h.refused_in,
            "dead_out": h.dead_out,
            "waiting": h.pending_out,
            "lag": hours(h.lag.total_seconds() / 3600) if h.lag is not None else "–",
            "bad": bool(h.refused_in or h.dead_out),
        }
        for h in channel_health()
    ]


def build_dashboard(start: date | None = None, end: date | None = None) -> dict[str, Any]:
    now = timezone.now()
    report = selectors.kpi_report(start, end)
    exceptions = selectors.exception_figures(report.start, report.end, now)
    webhooks = selectors.webhook_figures(report.start, report.end)
    webhooks["success_rate_display"] = pct(webhooks["success_rate"])
    exceptions["p50_display"] = hours(exceptions["resolution_p50_hours"])
    exceptions["p90_display"] = hours(exceptions["resolution_p90_hours"])
    return {
        "period": {"start": report.start, "end": report.end, "days": len(report.days)},
        "cards": kpi_cards(report, report.end)
        + return_cards(report.start, report.end, report)
        + [inventory_card(report.start, report.end)],
        "channel_headers": [
            "Orders",
            "Shipped",
            "Ship p50",
            "Ship p90",
            "On time",
            "Split",
            "Cancelled",
            "Backordered",
            "Touches/100",
        ],
        "channel_rows": channel_rows(report),
        "return_channel_headers": RETURN_CHANNEL_HEADERS,
        "return_channel_rows": return_channel_rows(
            report.start, report.end, report.channels, report
        ),
        "charts": charts(report),
        "exceptions": exceptions,
        "webhooks": webhooks,
        "outbox_backlog": sources.outbox_backlog(now),
        "feeds": feed_rows(now),
        "sales_channels": sales_channel_rows(),
        "generated_at": now,
    }


def dashboard_callback(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    try:
        context["kpi"] = build_dashboard()
    except Exception:  # the admin home must open even if a KPI query fails
        logger.exception("dashboard build failed")
        context["kpi_error"] = True
    return context
