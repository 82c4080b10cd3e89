"""The cutover dashboard and the shadow diff page, display-ready (the admin renders them).
No queries beyond the selectors' and kpis' own."""

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from migration.kpis import (
    ErrorRate,
    KpiPeriods,
    Kpis,
    connector_error_rate,
    kpi_periods,
    latest_inventory_variance,
    parity,
    webhook_dead,
    webhook_error_rate,
)
from migration.models import CutoverPlan
from migration.selectors import OrderDiff, cutover_status, order_diffs, shadow_summary
from orders.models import Channel

LINE_OPTIONS = {
    "animation": False,
    "responsive": True,
    "maintainAspectRatio": False,
    "plugins": {"legend": {"display": True, "position": "top", "align": "end"}},
    "scales": {"x": {"grid": {"display": False}}, "y": {"beginAtZero": True, "max": 100}},
}
BAR_OPTIONS = {
    **LINE_OPTIONS,
    "scales": {"x": {"grid": {"display": False}}, "y": {"beginAtZero": True}},
}
KPI_ROWS = [
    ("orders", "Orders", ""),
    ("order_to_ship_hours", "Order → first shipment", " h"),
    ("split_rate", "Split rate", "%"),
    ("cancellation_rate", "Cancellation rate", "%"),
    ("backorder_rate", "Backorder rate", "%"),
    ("on_time_ship_rate", "On-time ship (first shipment within 48 h)", "%"),
]
NO_LEGACY_LOG = "n/a: the legacy import has no such log"


def _show(value: Any, unit: str) -> str:
    return "–" if value is None else f"{value:,}{unit}" if unit != "%" else f"{value:.1f}%"


def kpi_table(periods: KpiPeriods) -> dict[str, Any]:
    """Columns and rows for the template: legacy and oms, before and after the switch date
    (one column each while the channel has not switched)."""
    sets: list[Kpis | None]
    if periods.switch_at is None:
        columns = ["legacy", "oms"]
        sets = [periods.legacy_before, periods.oms_before]
    else:
        columns = ["legacy before", "legacy after", "oms before", "oms after"]
        sets = [
            periods.legacy_before,
            periods.legacy_after,
            periods.oms_before,
            periods.oms_after,
        ]
    return {
        "switch_at": periods.switch_at,
        "columns": columns,
        "rows": [
            {
                "label": label,
                "values": [_show(getattr(k, key) if k else None, unit) for k in sets],
            }
            for key, label, unit in KPI_ROWS
        ],
    }


def _rate(rate: ErrorRate, what: str) -> str:
    if not rate.calls:
        return f"– (no {what} yet)"
    return f"{rate.rate:.1f}% ({rate.errors} of {rate.calls} {what})"


def parity_rows(channel_id: int) -> list[dict[str, str]]:
    """Both systems where the data exists; the legacy side is n/a where its import has no log."""
    webhooks = webhook_error_rate(channel_id)
    dead = webhook_dead(channel_id)
    rows = [
        {
            "label": "Webhook delivery error rate",
            "legacy": NO_LEGACY_LOG,
            "oms": _rate(webhooks, "attempts") + (f" · {dead} dead" if dead else ""),
        },
        {
            "label": "Connector error rate (node calls and messages)",
            "legacy": NO_LEGACY_LOG,
            "oms": _rate(connector_error_rate(channel_id), "calls"),
        },
    ]
    recon = latest_inventory_variance()
    if recon is None:
        variance = "– (no reconciliation yet: manage.py reconcile_inventory)"
    else:
        value = ", ".join(
            f"{amount} {currency}" for currency, amount in sorted(recon.value.items())
        )
        variance = (
            f"{recon.variance_pairs} of {recon.pairs} node×SKU pairs differ "
            f"(accuracy {recon.accuracy or 0:.1f}%) · oms +{recon.units_over} / "
            f"−{recon.units_under} units · {recon.over_threshold} over the threshold"
            + (f" · {value}" if value else "")
            + f" · {recon.source}, {recon.reconciled_at:%b %d %H:%M}"
        )
    rows.append({"label": "Inventory variance (latest reconciliation)", "both": variance})
    return rows


@dataclass(frozen=True)
class ChannelPanel:
    channel: str
    status: Any
    agreement: Any  # SummaryRow for the whole period, or None
    chart: str  # JSON for Chart.js
    figures_chart: str
    kpis: dict[str, Any]
    parity: Any
    parity_rows: list[dict[str, str]]


def channel_panels() -> list[ChannelPanel]:
    """Every channel that has a cutover plan, by code."""
    ids = CutoverPlan.objects.values("channel_id")
    panels = []
    for channel in Channel.objects.filter(pk__in=ids).order_by("code"):
        diffs = order_diffs(channel_code=channel.code)
        days = shadow_summary(diffs)
        [whole] = shadow_summary(diffs, by_day=False) or [None]
        labels = [row.day.strftime("%b %d") for row in days if row.day]
        chart = {
            "labels": labels,
            "datasets": [
                {
                    "label": "agreement %",
                    "data": [row.agreement for row in days],
                    "borderColor": "#2563eb",
                    "backgroundColor": "#2563eb",
                },
                {
                    "label": "legacy split %",
                    "data": [row.legacy["split_rate"] for row in days],
                    "borderColor": "#f59e0b",
                    "backgroundColor": "#f59e0b",
                },
                {
                    "label": "oms split %",
                    "data": [row.oms["split_rate"] for row in days],
                    "borderColor": "#16a34a",
                    "backgroundColor": "#16a34a",
                },
            ],
        }
        figures = {
            "labels": ["split rate %", "backorder rate %"],
            "datasets": [
                {
                    "label": side,
                    "data": [
                        getattr(whole, side)[key] if whole else None
                        for key in ("split_rate", "backorder_rate")
                    ],
                    "backgroundColor": color,
                }
                for side, color in (("legacy", "#f59e0b"), ("oms", "#16a34a"))
            ],
        }
        panels.append(
            ChannelPanel(
                channel=channel.code,
                status=cutover_status(channel),
                agreement=whole,
                chart=json.dumps(chart),
                figures_chart=json.dumps(figures),
                kpis=kpi_table(kpi_periods(channel.pk)),
                parity=parity(channel.pk),
                parity_rows=parity_rows(channel.pk),
            )
        )
    return panels


DIFF_COLUMNS = [
    "order",
    "channel",
    "day",
    "agrees",
    "oms nodes",
    "legacy nodes",
    "oms shipments",
    "legacy shipments",
    "oms miles",
    "legacy miles",
    "oms est. cost",
    "legacy est. cost",
    "oms promise",
    "legacy promise",
    "reason",
]


def _money(side: Any) -> str:
    return "" if side.cost is None else f"{side.cost} {side.currency}"


def diff_rows(diffs: list[OrderDiff]) -> list[list[Any]]:
    return [
        [
            d.order,
            d.channel,
            d.day.isoformat(),
            "yes" if d.agrees else "no",
            " + ".join(d.oms.nodes) or "–",
            " + ".join(d.legacy.nodes) or "–",
            d.oms.shipments,
            d.legacy.shipments,
            "" if d.oms.miles is None else d.oms.miles,
            "" if d.legacy.miles is None else d.legacy.miles,
            _money(d.oms),
            _money(d.legacy),
            "" if d.oms.promise is None else d.oms.promise.isoformat(),
            "" if d.legacy.promise is None else d.legacy.promise.isoformat(),
            d.reason,
        ]
        for d in diffs
    ]


SCREEN_COLUMNS = [
    "order",
    "day",
    "agrees",
    "nodes (oms | legacy)",
    "shipments",
    "miles",
    "est. cost",
    "promise date",
    "reason",
]


def _pair(oms: Any, legacy: Any) -> str:
    return f"{'–' if oms in (None, '') else oms} | {'–' if legacy in (None, '') else legacy}"


def diff_screen_rows(diffs: list[OrderDiff]) -> list[dict[str, Any]]:
    """The page's rows: each figure as "oms | legacy" in one cell (the CSV keeps a column
    each)."""
    return [
        {
            "order": d.order,
            "day": d.day.isoformat(),
            "agrees": d.agrees,
            "cells": [
                _pair(" + ".join(d.oms.nodes), " + ".join(d.legacy.nodes)),
                _pair(d.oms.shipments, d.legacy.shipments),
                _pair(d.oms.miles, d.legacy.miles),
                _pair(d.oms.cost, d.legacy.cost)
                + (
                    f" {d.oms.currency or d.legacy.currency}"
                    if d.oms.currency or d.legacy.currency
                    else ""
                ),
                _pair(
                    d.oms.promise.strftime("%b %d") if d.oms.promise else None,
                    d.legacy.promise.strftime("%b %d") if d.legacy.promise else None,
                ),
            ],
            "reason": d.reason,
        }
        for d in diffs
    ]


def diff_csv(diffs: list[OrderDiff]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(DIFF_COLUMNS)
    writer.writerows(diff_rows(diffs))
    return out.getvalue()
