"""The cutover dashboard and the shadow diff page, display-ready (the admin renders them).
No queries beyond the selectors' and kpis' own."""

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from migration.kpis import Kpis, legacy_baseline, oms_kpis, parity
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
    ("cancellation_rate", "Cancellation rate", "%"),
    ("split_rate", "Split rate", "%"),
    ("order_to_ship_hours", "Order → first shipment", " h"),
    ("on_time_ship_rate", "Shipped within 48 h", "%"),
]


def _show(value: Any, unit: str) -> str:
    return "–" if value is None else f"{value:,}{unit}" if unit != "%" else f"{value:.1f}%"


def kpi_rows(legacy: Kpis, oms: Kpis) -> list[dict[str, str]]:
    return [
        {
            "label": label,
            "legacy": _show(getattr(legacy, key), unit),
            "oms": _show(getattr(oms, key), unit),
        }
        for key, label, unit in KPI_ROWS
    ]


@dataclass(frozen=True)
class ChannelPanel:
    channel: str
    status: Any
    agreement: Any  # SummaryRow for the whole period, or None
    chart: str  # JSON for Chart.js
    figures_chart: str
    kpis: list[dict[str, str]]
    parity: Any


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
                kpis=kpi_rows(legacy_baseline(channel.pk), oms_kpis(channel.pk)),
                parity=parity(channel.pk),
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


def diff_csv(diffs: list[OrderDiff]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(DIFF_COLUMNS)
    writer.writerows(diff_rows(diffs))
    return out.getvalue()
