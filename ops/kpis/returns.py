"""The returns KPIs on the dashboard: return rate, refund amount, receipt-to-refund time and the
exchange share, for the dashboard's range and its last day (figures from returns.selectors),
and the same per sales channel over the range (`return_channel_rows`)."""

from datetime import date
from typing import Any

from oms.core.money import format_amount
from ops.kpis.portable import percentile
from ops.kpis.selectors import KpiReport, bounds
from returns.selectors import ReturnFigures, return_figures


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}%"


def _hours(values: list[float]) -> str:
    p50 = percentile(values, 0.5)
    if p50 is None:
        return "–"
    return f"{p50:.1f} h" if p50 < 48 else f"{p50 / 24:.1f} d"


def _money(figures: ReturnFigures) -> str:
    if not figures.refunded:
        return "0"
    return " · ".join(
        f"{format_amount(total, currency)} {currency}"
        for currency, total in figures.refunded.items()
    )


def return_cards(start: date, end: date, report: KpiReport | None = None) -> list[dict[str, str]]:
    """The cards for the range and its last day; with the range's KPI report, the orders placed
    are taken from it (the same count) instead of counted again."""
    day = return_figures(*bounds(end, end), orders=report.get(end).orders if report else None)
    period = return_figures(*bounds(start, end), orders=report.get().orders if report else None)

    def card(title: str, now: str, total: str, help_text: str) -> dict[str, str]:
        return {"title": title, "today": now, "period": total, "help": help_text}

    return [
        card(
            "Return rate",
            _pct(day.return_rate),
            _pct(period.return_rate),
            f"{period.returns:,} returns opened per orders placed",
        ),
        card("Refunded", _money(day), _money(period), "refunds that succeeded"),
        card(
            "Receipt → refund p50",
            _hours(day.receipt_to_refund_hours),
            _hours(period.receipt_to_refund_hours),
            f"{len(period.receipt_to_refund_hours):,} returns refunded",
        ),
        card(
            "Exchange share",
            _pct(day.exchange_share),
            _pct(period.exchange_share),
            "of returns opened",
        ),
    ]


RETURN_CHANNEL_HEADERS = ["Orders", "Returns", "Return rate", "Refunded", "Receipt → refund p50"]


def return_channel_rows(
    start: date, end: date, channels: dict[int, str], report: KpiReport | None = None
) -> list[dict[str, Any]]:
    """Per channel with orders or returns in the range, then all channels together (orders
    placed from the range's KPI report when given, as return_cards)."""
    t0, t1 = bounds(start, end)
    rows = []
    for channel_id, code in [*channels.items(), (None, "All channels")]:  # ordered by code
        placed = report.get(channel=channel_id).orders if report else None
        f = return_figures(t0, t1, channel_id, orders=placed)
        if channel_id is not None and not (f.orders or f.returns):
            continue
        rows.append(
            {
                "channel": code,
                "total": channel_id is None,
                "cells": [
                    f"{f.orders:,}",
                    f"{f.returns:,}",
                    _pct(f.return_rate),
                    _money(f),
                    _hours(f.receipt_to_refund_hours),
                ],
            }
        )
    return rows
