"""fulfillment/estimates.py: the shadow diff's estimated cost and promise date (pure)."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from fulfillment.estimates import estimate_shipments, transit_days
from fulfillment.rules import RuleConfig

PLACED = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)  # a Monday


@pytest.mark.parametrize(
    ("level", "miles", "method", "days"),
    [
        ("standard", 0.0, "ship", 1),
        ("standard", 150.0, "ship", 1),
        ("standard", 150.1, "ship", 2),
        ("standard", 640.0, "ship", 4),
        ("standard", 2400.0, "ship", 5),
        ("standard", None, "ship", 5),  # not located: the slowest zone
        ("express", 500.0, "ship", 1),
        ("express", 900.0, "ship", 2),
        ("same_day", 20.0, "ship", 0),
        ("standard", 900.0, "pickup", 0),
        ("standard", 900.0, "curbside", 0),
    ],
)
def test_transit_days_by_service_level_and_distance(level, miles, method, days):
    assert transit_days(level, miles, method) == days


def test_cost_is_the_rule_sets_figures_and_promise_the_last_parcel():
    rules = RuleConfig.model_validate(
        {"costs": {"per_shipment": {"store": 10.0}, "per_mile": 0.01}}
    )
    estimate = estimate_shipments(
        ["store-bos", "dc-east"],
        kinds={"store-bos": "store", "dc-east": "distribution_center"},
        miles={"store-bos": 640.0, "dc-east": 12.5},
        rules=rules,
        placed_at=PLACED,
        service_level="standard",
        delivery_method="ship",
        currency="USD",
    )
    assert estimate is not None
    assert [(s.node, s.cost, s.promise) for s in estimate.shipments] == [
        ("dc-east", Decimal("6.13"), date(2026, 11, 5)),  # 6.00 + 12.5 × 0.01; Wed + 1 day
        ("store-bos", Decimal("16.40"), date(2026, 11, 8)),  # 10.00 + 640 × 0.01; Wed + 4
    ]
    assert (estimate.cost, estimate.currency, estimate.promise) == (
        Decimal("22.53"),
        "USD",
        date(2026, 11, 8),
    )


def test_express_ships_within_a_day_and_nothing_placed_has_no_estimate():
    rules = RuleConfig()
    estimate = estimate_shipments(
        ["dc-east"],
        kinds={"dc-east": "distribution_center"},
        miles={"dc-east": None},
        rules=rules,
        placed_at=PLACED,
        service_level="express",
        delivery_method="ship",
        currency="EUR",
    )
    assert estimate is not None
    assert (estimate.cost, estimate.promise) == (Decimal("6.00"), date(2026, 11, 5))
    assert (
        estimate_shipments(
            [],
            kinds={},
            miles={},
            rules=rules,
            placed_at=PLACED,
            service_level="standard",
            delivery_method="ship",
            currency="USD",
        )
        is None
    )
