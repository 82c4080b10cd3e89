"""fulfillment/x12/mapping.py is pure: no django_db mark here, so any database access fails."""

import datetime as dt
from decimal import Decimal

import pytest

from fulfillment.x12.mapping import (
    DEFAULT_CARRIER,
    LineToShip,
    advice_from_payload,
    advice_payload,
    map_advice,
)
from fulfillment.x12.results import X12ImportError
from integrations.x12 import (
    Carrier,
    ItemId,
    Reference,
    ShipmentAdviceLine,
    WarehouseShippingAdvice,
)

NOW = dt.datetime(2026, 11, 2, 15, 0, tzinfo=dt.UTC)
LINES = (LineToShip(id=11, sku="AB-1", quantity=2), LineToShip(id=12, sku="cd-2", quantity=1))


def w12(sku: str, shipped: str | None, *tracking: str) -> ShipmentAdviceLine:
    return ShipmentAdviceLine(
        quantity_shipped=None if shipped is None else Decimal(shipped),
        unit="EA",
        item_ids=(ItemId("SK", sku),),
        references=tuple(Reference("2I", number) for number in tracking),
    )


def advice(*lines: ShipmentAdviceLine, **fields) -> WarehouseShippingAdvice:
    return WarehouseShippingAdvice(depositor_order_number="F-1", lines=lines, **fields)


def plan_for(advice_: WarehouseShippingAdvice):
    return map_advice(
        advice_,
        LINES,
        number="F-1",
        node_timezone="America/New_York",
        fallback_tracking="file-1",
        now=NOW,
    )


def test_full_shipment_in_one_parcel_per_advice_tracking_number():
    plan = plan_for(
        advice(
            w12(" ab-1 ", "2"),
            w12("CD-2", "1"),
            carrier=Carrier(scac="UPSN", routing="GROUND"),
            references=(Reference("2I", "1Z1"),),
        )
    )
    assert plan.shipped == {11: 2, 12: 1}
    assert not plan.short
    assert not plan.rejects
    assert [(p.carrier, p.tracking_number, p.service, p.lines) for p in plan.packages] == [
        ("UPSN", "1Z1", "GROUND", {})
    ]
    assert plan.shipped_at == NOW  # no ship date: now


def test_short_shipment_parcels_per_line_and_an_earlier_ship_date_at_noon_node_time():
    plan = plan_for(
        advice(w12("AB-1", "1", "1Z1"), w12("CD-2", "1", "1Z2"), ship_date=dt.date(2026, 10, 30))
    )
    assert plan.shipped == {11: 1, 12: 1}
    assert plan.short
    assert [(p.carrier, p.tracking_number, p.lines) for p in plan.packages] == [
        (DEFAULT_CARRIER, "1Z1", {11: 1}),
        (DEFAULT_CARRIER, "1Z2", {12: 1}),
    ]
    assert plan.shipped_at.isoformat() == "2026-10-30T12:00:00-04:00"


def test_nothing_shipped_rejects_and_falls_back_to_the_file_tracking():
    plan = plan_for(advice(w12("AB-1", "0")))
    assert plan.rejects
    assert plan.short
    assert [p.tracking_number for p in plan.packages] == ["file-1"]


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (w12("ZZ-9", "1"), "unknown_item"),
        (w12("AB-1", None), "missing_quantity"),
        (w12("AB-1", "1.5"), "invalid_quantity"),
        (w12("AB-1", "3"), "quantity_exceeds_order"),
    ],
)
def test_a_w12_that_cannot_be_matched_or_counted_is_refused(line, code):
    with pytest.raises(X12ImportError) as refused:
        plan_for(advice(line))
    assert refused.value.code == code


def test_an_advice_without_lines_is_refused():
    with pytest.raises(X12ImportError) as refused:
        plan_for(advice())
    assert refused.value.code == "no_lines"


def test_the_logged_payload_gives_the_advice_back():
    payload = advice_payload(
        advice(
            w12("AB-1", "2", "1Z1"),
            ship_date=dt.date(2026, 11, 1),
            carrier=Carrier(scac="UPSN"),
            references=(Reference("BM", "BOL-7"), Reference("2I", "1Z0")),
        )
    )
    assert advice_payload(advice_from_payload(payload)) == payload
