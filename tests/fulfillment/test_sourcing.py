import json
import random
from datetime import UTC, datetime, timedelta

import pytest

from fulfillment.rules import RuleConfig
from fulfillment.sourcing import (
    Assignment,
    Backorder,
    CandidateNode,
    Destination,
    Exclusion,
    LineDemand,
    OrderDemand,
    Plan,
    StockInfo,
    plan_order,
)

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
HOME = (40.0, -75.0)  # the customer
ONE_DEGREE_NORTH = (41.0, -75.0)  # 69 miles from HOME
FAR = (41.8781, -87.6298)  # Chicago, 671 miles from HOME
ZERO_WEIGHTS = {"distance": 0, "priority": 0, "cost": 0, "shipments": 0, "stock_depth": 0}


def rules(**data) -> RuleConfig:
    return RuleConfig.model_validate(data)


def only_weight(name: str, value: float = 1.0) -> RuleConfig:
    return rules(weights={**ZERO_WEIGHTS, name: value})


def node(
    node_id: int,
    code: str,
    *,
    kind: str = "distribution_center",
    at: tuple[float, float] = HOME,
    stock: dict[int, int | StockInfo] | None = None,
    reported: datetime | None = NOW,
    priority: int = 100,
    region: str = "east",
    **flags: object,
) -> CandidateNode:
    values: dict = {
        "is_active": True,
        "can_ship": True,
        "can_pickup": kind == "store",
        "can_curbside": False,
        "can_ship_from_store": kind == "store",
        "daily_capacity": 1000,
        "capacity_used_today": 0,
    } | flags
    return CandidateNode(
        node_id=node_id,
        code=code,
        name=code.title(),
        kind=kind,
        latitude=at[0],
        longitude=at[1],
        priority=priority,
        fulfillment_region=region,
        stock={
            pid: q if isinstance(q, StockInfo) else StockInfo(q, q, reported)
            for pid, q in (stock or {}).items()
        },
        **values,
    )


def line(line_id: int, product_id: int, quantity: int = 1, sku: str | None = None) -> LineDemand:
    return LineDemand(line_id, product_id, sku or f"SKU-{product_id}", quantity)


def order(
    *lines: LineDemand,
    method: str = "ship",
    level: str = "standard",
    at: tuple[float | None, float | None] = HOME,
    state: str = "NY",
    pickup: int | None = None,
) -> OrderDemand:
    return OrderDemand(tuple(lines), method, level, Destination(at[0], at[1], state, "US"), pickup)


def assigned(plan: Plan) -> list[tuple[int, str, int]]:
    return [(a.line_id, a.node_code, a.quantity) for a in plan.assignments]


def candidate(plan: Plan, code: str):
    return next(c for c in plan.candidates if c.code == code)


# --- filters ------------------------------------------------------------------------------------

TEE = "APP-TEE-BLK-M"


def test_baseline_the_candidate_wins_when_no_filter_applies():
    # given: the candidate of the filter tests below beats DC-GOOD on priority
    good = node(1, "DC-GOOD", stock={1: 10})
    rival = node(2, "DC-NEAR", stock={1: 10}, priority=1, at=ONE_DEGREE_NORTH)

    # when
    plan = plan_order(order(line(1, 1, sku=TEE)), [good, rival], RuleConfig(), now=NOW)

    # then
    assert assigned(plan) == [(1, "DC-NEAR", 1)]
    assert candidate(plan, "DC-NEAR").excluded == ()


@pytest.mark.parametrize(
    ("_case", "config", "rival", "demand", "expected"),
    [
        (
            "inactive",
            {},
            node(2, "DC-NEAR", stock={1: 10}, priority=1, is_active=False),
            order(line(1, 1, sku=TEE)),
            [("inactive", "Distribution center DC-NEAR excluded: inactive", None)],
        ),
        (
            "excluded by the rule set",
            {"filters": {"excluded_nodes": ["DC-NEAR"]}},
            node(2, "DC-NEAR", stock={1: 10}, priority=1),
            order(line(1, 1, sku=TEE)),
            [
                (
                    "excluded_node",
                    "Distribution center DC-NEAR excluded: on the rule set's excluded nodes list",
                    None,
                )
            ],
        ),
        (
            "DC that cannot ship",
            {},
            node(2, "DC-NEAR", stock={1: 10}, priority=1, can_ship=False),
            order(line(1, 1, sku=TEE)),
            [("capability", "Distribution center DC-NEAR excluded: cannot ship", None)],
        ),
        (
            "store without ship-from-store",
            {},
            node(2, "ST-NEAR", kind="store", stock={1: 10}, priority=1, can_ship_from_store=False),
            order(line(1, 1, sku=TEE)),
            [("capability", "Store ST-NEAR excluded: cannot ship from store", None)],
        ),
        (
            "express from a store",
            {},
            node(2, "ST-NEAR", kind="store", stock={1: 10}, priority=1),
            order(line(1, 1, sku=TEE), level="express"),
            [
                (
                    "service_level",
                    "Store ST-NEAR excluded: express orders ship only from distribution "
                    "centers or warehouses",
                    None,
                )
            ],
        ),
        (
            "region not allowed for the state",
            {"filters": {"allowed_regions": {"NY": ["east", "central"]}}},
            node(2, "DC-NEAR", stock={1: 10}, priority=1, region="west"),
            order(line(1, 1, sku=TEE)),
            [
                (
                    "region",
                    "Distribution center DC-NEAR excluded: region 'west' may not ship to NY "
                    "(allowed: east, central)",
                    None,
                )
            ],
        ),
        (
            "daily capacity reached",
            {},
            node(
                2, "DC-NEAR", stock={1: 10}, priority=1, daily_capacity=120, capacity_used_today=120
            ),
            order(line(1, 1, sku=TEE)),
            [
                (
                    "capacity",
                    "Distribution center DC-NEAR excluded: daily capacity 120 reached",
                    None,
                )
            ],
        ),
        (
            "too far",
            {"filters": {"max_distance_miles": 50}},
            node(2, "DC-NEAR", stock={1: 10}, priority=1, at=ONE_DEGREE_NORTH),
            order(line(1, 1, sku=TEE)),
            [
                (
                    "distance",
                    "Distribution center DC-NEAR excluded: 69 miles away, beyond the 50-mile limit",
                    None,
                )
            ],
        ),
        (
            "no stock of the item",
            {},
            node(2, "DC-NEAR", stock={7: 10}, priority=1),
            order(line(1, 1, sku=TEE)),
            [
                (
                    "no_stock",
                    "Distribution center DC-NEAR excluded: no usable stock of any ordered item",
                    None,
                )
            ],
        ),
        (
            "stale inventory",
            {"filters": {"max_inventory_age_hours": 24}},
            node(2, "DC-NEAR", stock={1: 10}, priority=1, reported=NOW - timedelta(hours=30)),
            order(line(1, 1, sku=TEE)),
            [
                (
                    "stale_inventory",
                    "Distribution center DC-NEAR excluded: stock of APP-TEE-BLK-M last reported "
                    "30 hours ago (limit 24 hours)",
                    TEE,
                ),
                (
                    "no_stock",
                    "Distribution center DC-NEAR excluded: no usable stock of any ordered item",
                    None,
                ),
            ],
        ),
        (
            "inventory never reported",
            {"filters": {"max_inventory_age_hours": 24}},
            node(2, "DC-NEAR", stock={1: 10}, priority=1, reported=None),
            order(line(1, 1, sku=TEE)),
            [
                (
                    "stale_inventory",
                    "Distribution center DC-NEAR excluded: stock of APP-TEE-BLK-M never reported "
                    "(limit 24 hours)",
                    TEE,
                ),
                (
                    "no_stock",
                    "Distribution center DC-NEAR excluded: no usable stock of any ordered item",
                    None,
                ),
            ],
        ),
        (
            "store below its minimum stock",
            {"filters": {"store_min_stock": 2}},
            node(2, "NYC-5TH", kind="store", stock={1: 1}, priority=1),
            order(line(1, 1, sku=TEE)),
            [
                (
                    "store_min_stock",
                    "Store NYC-5TH excluded: below minimum stock 2 for APP-TEE-BLK-M (has 1)",
                    TEE,
                ),
                ("no_stock", "Store NYC-5TH excluded: no usable stock of any ordered item", None),
            ],
        ),
        (
            "store at its minimum stock",
            {"filters": {"store_min_stock": 2}},
            node(2, "NYC-5TH", kind="store", stock={1: 2}, priority=1),
            order(line(1, 1, sku=TEE)),
            [
                (
                    "store_min_stock",
                    "Store NYC-5TH excluded: at minimum stock 2 for APP-TEE-BLK-M (has 2)",
                    TEE,
                ),
                ("no_stock", "Store NYC-5TH excluded: no usable stock of any ordered item", None),
            ],
        ),
    ],
)
def test_each_filter_excludes_the_node_with_a_readable_reason(
    _case, config, rival, demand, expected
):
    # given
    good = node(1, "DC-GOOD", stock={1: 10})

    # when
    plan = plan_order(demand, [rival, good], rules(**config), now=NOW)

    # then
    report = candidate(plan, rival.code)
    assert [(e.filter, e.reason, e.sku) for e in report.excluded] == expected
    assert report.eligible is False
    assert assigned(plan) == [(1, "DC-GOOD", 1)]


def test_every_failing_node_level_filter_is_recorded():
    # given
    rival = node(2, "DC-NEAR", stock={1: 10}, is_active=False, can_ship=False)
    config = rules(filters={"excluded_nodes": ["DC-NEAR"]})

    # when
    plan = plan_order(order(line(1, 1)), [rival], config, now=NOW)

    # then
    assert [e.filter for e in candidate(plan, "DC-NEAR").excluded] == [
        "inactive",
        "excluded_node",
        "capability",
    ]
    assert plan.outcome == "backordered"
    assert (
        plan.explanation[-1]
        == "Not eligible: 1 of 1 nodes (capability 1, excluded_node 1, inactive 1)."
    )


def test_stale_stock_of_one_product_leaves_the_node_its_other_products():
    # given: DC-A's count of product 2 is old; DC-B has product 2 but is further away
    dc_a = node(
        1,
        "DC-A",
        stock={
            1: StockInfo(5, 5, NOW - timedelta(hours=2)),
            2: StockInfo(5, 5, NOW - timedelta(hours=50)),
        },
    )
    dc_b = node(2, "DC-B", stock={2: 5}, at=ONE_DEGREE_NORTH)

    # when
    plan = plan_order(
        order(line(1, 1), line(2, 2)),
        [dc_a, dc_b],
        rules(filters={"max_inventory_age_hours": 48}),
        now=NOW,
    )

    # then
    report = candidate(plan, "DC-A")
    assert report.eligible is True
    assert report.excluded == (
        Exclusion(
            "stale_inventory",
            "Distribution center DC-A excluded: stock of SKU-2 last reported 50 hours ago "
            "(limit 48 hours)",
            "SKU-2",
        ),
    )
    assert report.usable == {"SKU-1": 5}
    assert assigned(plan) == [(1, "DC-A", 1), (2, "DC-B", 1)]


def test_a_store_routes_only_what_it_holds_above_its_minimum():
    # given: 5 on the shelf, 2 kept for walk-in shoppers
    store = node(1, "ST-1", kind="store", stock={1: 5}, priority=1)
    dc = node(2, "DC-1", stock={1: 50}, at=FAR)
    config = rules(filters={"store_min_stock": 2})

    # when
    three = plan_order(order(line(1, 1, 3)), [store, dc], config, now=NOW)
    four = plan_order(order(line(1, 1, 4)), [store, dc], config, now=NOW)

    # then
    assert candidate(three, "ST-1").usable == {"SKU-1": 3}
    assert assigned(three) == [(1, "ST-1", 3)]
    assert assigned(four) == [(1, "DC-1", 4)]


def test_region_rules_apply_only_to_the_states_they_name():
    # given
    west = node(1, "DC-WEST", stock={1: 5}, region="west")
    config = rules(filters={"allowed_regions": {"NY": ["east"]}})

    # when
    to_ny = plan_order(order(line(1, 1), state="NY"), [west], config, now=NOW)
    to_nj = plan_order(order(line(1, 1), state="NJ"), [west], config, now=NOW)

    # then
    assert (to_ny.outcome, assigned(to_ny)) == ("backordered", [])
    assert (to_nj.outcome, assigned(to_nj)) == ("routed", [(1, "DC-WEST", 1)])


def test_capacity_is_ignored_when_the_rule_set_says_so():
    # given
    busy = node(1, "DC-BUSY", stock={1: 5}, daily_capacity=10, capacity_used_today=10)

    # when
    plan = plan_order(
        order(line(1, 1)), [busy], rules(filters={"respect_daily_capacity": False}), now=NOW
    )

    # then
    assert assigned(plan) == [(1, "DC-BUSY", 1)]


def test_express_ships_only_from_distribution_centers_and_warehouses():
    # given: the store is at the customer's door, the DC and the 3PL far away
    store = node(1, "ST-DOOR", kind="store", stock={1: 5})
    tpl = node(2, "3PL-1", kind="3pl", stock={1: 5}, at=ONE_DEGREE_NORTH)
    dc = node(3, "DC-FAR", stock={1: 5}, at=FAR)

    # when
    express = plan_order(
        order(line(1, 1), level="express"), [store, tpl, dc], RuleConfig(), now=NOW
    )
    standard = plan_order(order(line(1, 1)), [store, tpl, dc], RuleConfig(), now=NOW)

    # then
    assert assigned(express) == [(1, "DC-FAR", 1)]
    assert [c.code for c in express.candidates if not c.eligible] == ["3PL-1", "ST-DOOR"]
    assert assigned(standard) == [(1, "3PL-1", 1)]


def test_same_day_ships_only_from_stores():
    # given
    dc = node(1, "DC-1", stock={1: 5})
    store = node(2, "ST-1", kind="store", stock={1: 5}, at=ONE_DEGREE_NORTH)

    # when
    plan = plan_order(order(line(1, 1), level="same_day"), [dc, store], RuleConfig(), now=NOW)

    # then
    assert assigned(plan) == [(1, "ST-1", 1)]
    assert candidate(plan, "DC-1").excluded[0].reason == (
        "Distribution center DC-1 excluded: same-day orders ship only from stores"
    )


# --- score ----------------------------------------------------------------------------------------


def test_score_components_of_a_node():
    # given: at the customer's address, priority 100, 10 units for a line of 1 (depth capped at 5)
    dc = node(1, "DC-1", stock={1: 10})

    # when
    plan = plan_order(order(line(1, 1)), [dc], RuleConfig(), now=NOW)

    # then
    report = candidate(plan, "DC-1")
    assert report.distance_miles == 0.0
    assert report.score_components == {
        "distance": 0.0,
        "priority": 5.0,
        "cost": 6.0,
        "stock_depth": -1.25,
    }
    assert report.score == 9.75
    assert plan.score == 14.75  # + 5.0 for one shipment


@pytest.mark.parametrize(
    ("_case", "config", "nodes", "winner"),
    [
        (
            "nearer node wins on distance",
            only_weight("distance"),
            [
                node(1, "A-FAR", stock={1: 5}, at=FAR, priority=1),
                node(2, "Z-NEAR", stock={1: 5}, at=ONE_DEGREE_NORTH, priority=200),
            ],
            "Z-NEAR",
        ),
        (
            "lower priority number wins on priority",
            only_weight("priority"),
            [
                node(1, "A-NEAR", stock={1: 5}, priority=50),
                node(2, "Z-FAR", stock={1: 5}, at=FAR, priority=10),
            ],
            "Z-FAR",
        ),
        (
            "cheaper kind wins on cost",
            only_weight("cost"),
            [
                node(1, "A-STORE", kind="store", stock={1: 5}),
                node(2, "Z-DC", stock={1: 5}, at=FAR),
            ],
            "Z-DC",
        ),
        (
            "deeper stock wins on stock depth",
            only_weight("stock_depth"),
            [
                node(1, "A-SHALLOW", stock={1: 2}),
                node(2, "Z-DEEP", stock={1: 10}, at=FAR),
            ],
            "Z-DEEP",
        ),
    ],
)
def test_each_score_component_moves_the_choice(_case, config, nodes, winner):
    # when
    plan = plan_order(order(line(1, 1, 2)), nodes, config, now=NOW)

    # then
    assert assigned(plan) == [(1, winner, 2)]


def test_ties_are_broken_by_priority_then_code():
    # given: all weights zero, so every node scores 0
    nodes = [
        node(1, "C", stock={1: 5}, priority=5),
        node(2, "B", stock={1: 5}, priority=9),
        node(3, "A", stock={1: 5}, priority=9),
    ]

    # when
    by_priority = plan_order(order(line(1, 1)), nodes, rules(weights=ZERO_WEIGHTS), now=NOW)
    by_code = plan_order(order(line(1, 1)), nodes[1:], rules(weights=ZERO_WEIGHTS), now=NOW)

    # then
    assert assigned(by_priority) == [(1, "C", 1)]
    assert assigned(by_code) == [(1, "A", 1)]


# --- shipments ----------------------------------------------------------------------------------


def test_one_node_is_preferred_over_a_split_even_when_the_split_nodes_are_nearer():
    # given
    far_dc = node(1, "DC-FAR", stock={1: 5, 2: 5}, at=FAR)
    near_a = node(2, "ST-A", kind="store", stock={1: 5})
    near_b = node(3, "ST-B", kind="store", stock={2: 5})

    # when
    plan = plan_order(
        order(line(1, 1), line(2, 2)), [near_a, near_b, far_dc], RuleConfig(), now=NOW
    )

    # then
    assert assigned(plan) == [(1, "DC-FAR", 1), (2, "DC-FAR", 1)]
    assert (plan.outcome, plan.shipments) == ("routed", 1)
    assert plan.explanation == (
        "Chose DC-FAR for all 2 lines: one shipment, 671 miles, score 22.8; no other node could "
        "fill it alone.",
        "Passed over 2 better-scored nodes that can fill only part of the order: ST-A (0 miles, "
        "score 12.2, 1 of 2 SKUs), ST-B (0 miles, score 12.2, 1 of 2 SKUs). A split takes at "
        "least 2 shipments vs 1 (each adds 5.0): it would score at least 34.5, against 22.8 for "
        "DC-FAR alone.",
        "All 3 nodes passed the filters.",
    )


def test_the_runner_up_is_named_in_the_explanation():
    # given
    near = node(1, "DC-EAST", stock={1: 5, 2: 5})
    far = node(2, "DC-WEST", stock={1: 5, 2: 5}, at=FAR)

    # when
    plan = plan_order(order(line(1, 1), line(2, 2)), [far, near], RuleConfig(), now=NOW)

    # then
    assert plan.explanation[0] == (
        "Chose DC-EAST for all 2 lines: one shipment, 0 miles, score 14.8; DC-WEST could also "
        "fill it but scored 22.8."
    )


def test_fewest_shipments_wins():
    # given: A has lines 1+2, B and E have line 3, C has line 1, D has line 2
    nodes = [
        node(1, "A", stock={1: 5, 2: 5}),
        node(2, "B", stock={3: 5}),
        node(3, "C", stock={1: 5}),
        node(4, "D", stock={2: 5}),
        node(5, "E", stock={3: 5}, at=ONE_DEGREE_NORTH),
    ]

    # when
    plan = plan_order(order(line(1, 1), line(2, 2), line(3, 3)), nodes, RuleConfig(), now=NOW)

    # then
    assert assigned(plan) == [(1, "A", 1), (2, "A", 1), (3, "B", 1)]
    assert (plan.outcome, plan.shipments) == ("routed", 2)
    assert plan.explanation[0] == (
        "No single node could fill every line: split into 2 shipments: A ships SKU-1 ×1, "
        "SKU-2 ×1 (0 miles, score 9.8); B ships SKU-3 ×1 (0 miles, score 9.8). Total score 29.5."
    )


def test_exact_cover_finds_two_shipments_where_greedy_by_score_takes_three():
    # given: by score alone X (line 1), then Z (adds line 2), then W (line 3) = 3 shipments;
    # two suffice: Z + W (or X + Y, which is further away)
    nodes = [
        node(1, "X", stock={1: 5}, at=(40.01, -75.0)),
        node(2, "Z", stock={1: 5, 2: 5}, at=(40.1, -75.0)),
        node(3, "W", stock={3: 5}, at=(40.2, -75.0)),
        node(4, "Y", stock={2: 5, 3: 5}, at=FAR),
    ]

    # when
    plan = plan_order(
        order(line(1, 1), line(2, 2), line(3, 3)), nodes, only_weight("distance"), now=NOW
    )

    # then
    assert assigned(plan) == [(1, "Z", 1), (2, "Z", 1), (3, "W", 1)]
    assert plan.shipments == 2


def test_exact_cover_finds_two_shipments_where_greedy_by_coverage_takes_three():
    # given: BIG has the most lines (1-4) but leaves 5 and 6 at two different nodes;
    # A (1, 2, 5) + B (3, 4, 6) need only two shipments
    nodes = [
        node(1, "BIG", stock=dict.fromkeys([1, 2, 3, 4], 5)),
        node(2, "A", stock=dict.fromkeys([1, 2, 5], 5), at=FAR),
        node(3, "B", stock=dict.fromkeys([3, 4, 6], 5), at=FAR),
        node(4, "ONLY-5", stock={5: 5}),
        node(5, "ONLY-6", stock={6: 5}),
    ]

    # when
    plan = plan_order(order(*(line(i, i) for i in range(1, 7))), nodes, RuleConfig(), now=NOW)

    # then
    assert sorted({a.node_code for a in plan.assignments}) == ["A", "B"]
    assert (plan.outcome, plan.shipments) == ("routed", 2)


def test_a_node_the_others_can_stand_in_for_is_dropped():
    # given: the cover takes A for line 1 (nearest); lines 2 and 3 (8 of product 2 between them,
    # no node has 8) then need B and C, and B also has what A was chosen for
    nodes = [
        node(1, "A", stock={1: 3}),
        node(2, "B", stock={1: 5, 2: 4}, at=ONE_DEGREE_NORTH),
        node(3, "C", stock={2: 5}, at=FAR),
    ]

    # when
    plan = plan_order(order(line(1, 1), line(2, 2, 4), line(3, 2, 4)), nodes, RuleConfig(), now=NOW)

    # then
    assert assigned(plan) == [(1, "B", 1), (2, "B", 4), (3, "C", 4)]
    assert (plan.outcome, plan.shipments) == ("routed", 2)


def test_max_shipments_caps_the_split_and_backorders_the_rest():
    # given: each line at a different node
    nodes = [
        node(1, "A", stock={1: 5}),
        node(2, "B", stock={2: 5}, at=ONE_DEGREE_NORTH),
        node(3, "C", stock={3: 5}, at=FAR),
    ]

    # when
    plan = plan_order(
        order(line(1, 1), line(2, 2), line(3, 3)), nodes, rules(max_shipments=2), now=NOW
    )

    # then
    assert assigned(plan) == [(1, "A", 1), (2, "B", 1)]
    assert plan.backordered == (Backorder(3, 1),)
    assert (plan.outcome, plan.shipments) == ("partially_backordered", 2)
    assert plan.explanation[0] == (
        "Filling every line would take more than 2 shipments, the most the rule set allows."
    )


def test_two_lines_of_one_product_draw_on_the_same_stock():
    # given: A could fill either line alone but not both
    a = node(1, "A", stock={1: 3})
    b = node(2, "B", stock={1: 4}, at=FAR)

    # when
    plan = plan_order(order(line(1, 1, 2), line(2, 1, 2)), [a, b], RuleConfig(), now=NOW)

    # then
    assert assigned(plan) == [(1, "B", 2), (2, "B", 2)]


def test_more_than_twenty_products_fall_back_to_a_greedy_cover():
    # given
    lines = [line(i, i) for i in range(1, 23)]
    left = node(1, "LEFT", stock=dict.fromkeys(range(1, 12), 5))
    right = node(2, "RIGHT", stock=dict.fromkeys(range(12, 23), 5))
    crumbs = [node(10 + i, f"CRUMB-{i}", stock={i: 5}) for i in range(1, 23)]

    # when
    plan = plan_order(order(*lines), [*crumbs, left, right], RuleConfig(), now=NOW)

    # then
    assert (plan.outcome, plan.shipments) == ("routed", 2)
    assert {a.node_code for a in plan.assignments} == {"LEFT", "RIGHT"}


# --- line splits, backorders, policies ----------------------------------------------------------


def test_a_line_no_node_can_fill_is_split_across_nodes():
    # given
    nodes = [
        node(1, "A", stock={1: 3}),
        node(2, "B", stock={1: 2}, at=ONE_DEGREE_NORTH),
        node(3, "C", stock={1: 1}),
    ]

    # when
    plan = plan_order(order(line(1, 1, 5)), nodes, RuleConfig(), now=NOW)

    # then
    assert plan.assignments == (Assignment(1, 1, "A", 3), Assignment(1, 2, "B", 2))
    assert (plan.outcome, plan.shipments) == ("routed", 2)
    assert "Line 1 (SKU-1) split across A ×3, B ×2." in plan.explanation


def test_a_split_line_takes_the_fewest_nodes_before_the_best_scores():
    # given: by score alone A, B, then C would make 3 shipments; C + A make 2
    nodes = [
        node(1, "A", stock={1: 2}),
        node(2, "B", stock={1: 1}),
        node(3, "C", stock={1: 4}, at=FAR),
    ]

    # when
    plan = plan_order(order(line(1, 1, 5)), nodes, RuleConfig(), now=NOW)

    # then
    assert assigned(plan) == [(1, "A", 1), (1, "C", 4)]
    assert plan.shipments == 2


def test_without_split_lines_one_node_ships_what_it_has_and_the_rest_is_backordered():
    # given
    nodes = [node(1, "A", stock={1: 3}), node(2, "B", stock={1: 2})]

    # when
    plan = plan_order(order(line(1, 1, 5)), nodes, rules(split_lines=False), now=NOW)

    # then
    assert assigned(plan) == [(1, "A", 3)]
    assert plan.backordered == (Backorder(1, 2),)
    assert plan.outcome == "partially_backordered"


def test_what_no_node_can_fill_is_backordered():
    # given
    nodes = [node(1, "A", stock={1: 3, 2: 1})]

    # when
    plan = plan_order(order(line(1, 1, 5), line(2, 2, 1)), nodes, RuleConfig(), now=NOW)

    # then
    assert assigned(plan) == [(1, "A", 3), (2, "A", 1)]
    assert plan.backordered == (Backorder(1, 2),)
    assert (plan.outcome, plan.shipments) == ("partially_backordered", 1)
    assert (
        "Backordered SKU-1 ×2 (line 1): no eligible node has enough usable stock."
        in plan.explanation
    )


def test_nothing_anywhere_backorders_the_whole_order():
    # when
    plan = plan_order(order(line(1, 1, 2)), [node(1, "A", stock={})], RuleConfig(), now=NOW)

    # then
    assert (plan.outcome, plan.assignments, plan.shipments, plan.score) == ("backordered", (), 0, 0)
    assert plan.backordered == (Backorder(1, 2),)


def test_reject_policy_rejects_an_order_it_cannot_fill_completely():
    # given
    nodes = [node(1, "A", stock={1: 3, 2: 1})]

    # when
    plan = plan_order(
        order(line(1, 1, 5), line(2, 2)), nodes, rules(backorder_policy="reject"), now=NOW
    )

    # then
    assert (plan.outcome, plan.assignments, plan.shipments) == ("rejected", (), 0)
    assert plan.backordered == (Backorder(1, 2),)
    assert (
        "Rejected: SKU-1 ×2 (line 1) cannot be filled and the rule set rejects orders it cannot "
        "fill completely." in plan.explanation
    )


def test_single_node_only_ships_from_the_node_filling_most_and_backorders_the_rest():
    # given: A has lines 1+2, B has line 3: a split would route everything
    nodes = [node(1, "A", stock={1: 5, 2: 5}, at=FAR), node(2, "B", stock={3: 5})]

    # when
    plan = plan_order(
        order(line(1, 1), line(2, 2), line(3, 3)),
        nodes,
        rules(partial_policy="single_node_only"),
        now=NOW,
    )

    # then
    assert assigned(plan) == [(1, "A", 1), (2, "A", 1)]
    assert plan.backordered == (Backorder(3, 1),)
    assert (plan.outcome, plan.shipments) == ("partially_backordered", 1)
    assert plan.explanation[0] == (
        "No single node could fill every line and the rule set allows no splits: chose A, "
        "which can fill 2 of 3 lines."
    )


# --- pickup -------------------------------------------------------------------------------------


def test_pickup_goes_to_the_pickup_store_only_and_backorders_what_it_lacks():
    # given: the DC has everything, the pickup store only part
    dc = node(1, "DC-1", stock={1: 9, 2: 9})
    store = node(2, "ST-PICK", kind="store", stock={1: 1}, at=ONE_DEGREE_NORTH)

    # when
    plan = plan_order(
        order(line(1, 1, 2), line(2, 2), method="pickup", pickup=2),
        [dc, store],
        RuleConfig(),
        now=NOW,
    )

    # then
    assert assigned(plan) == [(1, "ST-PICK", 1)]
    assert plan.backordered == (Backorder(1, 1), Backorder(2, 1))
    assert plan.outcome == "partially_backordered"
    report = candidate(plan, "DC-1")
    assert report.excluded == (
        Exclusion(
            "pickup_node", "Distribution center DC-1 excluded: not the customer's pickup store"
        ),
    )
    assert report.score is None


@pytest.mark.parametrize(
    ("_case", "method", "flags", "reason"),
    [
        (
            "pickup",
            "pickup",
            {"can_pickup": False},
            "Store ST-PICK excluded: does not offer in-store pickup",
        ),
        ("curbside", "curbside", {}, "Store ST-PICK excluded: does not offer curbside pickup"),
    ],
)
def test_a_pickup_store_without_the_capability_backorders_the_order(_case, method, flags, reason):
    # given
    store = node(2, "ST-PICK", kind="store", stock={1: 5}, **flags)

    # when
    plan = plan_order(order(line(1, 1), method=method, pickup=2), [store], RuleConfig(), now=NOW)

    # then
    assert candidate(plan, "ST-PICK").excluded == (Exclusion("capability", reason),)
    assert (plan.outcome, plan.assignments) == ("backordered", ())
    assert plan.explanation[0] == f"Pickup at ST-PICK is not possible: {reason}."


def test_curbside_at_a_store_offering_it_is_routed_there():
    # given
    store = node(2, "ST-CURB", kind="store", stock={1: 5}, can_curbside=True)

    # when
    plan = plan_order(
        order(line(1, 1), method="curbside", pickup=2), [store], RuleConfig(), now=NOW
    )

    # then
    assert (plan.outcome, assigned(plan)) == ("routed", [(1, "ST-CURB", 1)])


# --- destination --------------------------------------------------------------------------------


def test_unknown_destination_without_fallback_scores_no_distance():
    # given
    nodes = [node(1, "A", stock={1: 5}, at=FAR), node(2, "B", stock={1: 5})]

    # when
    plan = plan_order(order(line(1, 1), at=(None, None)), nodes, RuleConfig(), now=NOW)

    # then
    assert plan.explanation[0] == (
        "Destination could not be located: distance unknown, so it was not scored."
    )
    assert [c.distance_miles for c in plan.candidates] == [None, None]
    assert candidate(plan, "A").score_components["distance"] == 0.0
    assert assigned(plan) == [(1, "A", 1)]  # same score: code decides


def test_unknown_destination_uses_the_fallback_location():
    # given
    nodes = [node(1, "A", stock={1: 5}, at=FAR), node(2, "B", stock={1: 5})]
    config = rules(fallback_location={"latitude": HOME[0], "longitude": HOME[1]})

    # when
    plan = plan_order(order(line(1, 1), at=(None, None)), nodes, config, now=NOW)

    # then
    assert plan.explanation[0] == (
        "Destination could not be located: distances measured from the rule set's fallback "
        "location (40, -75)."
    )
    assert candidate(plan, "B").distance_miles == 0.0
    assert assigned(plan) == [(1, "B", 1)]


# --- determinism and output ---------------------------------------------------------------------


def random_nodes(seed: int, count: int) -> list[CandidateNode]:
    rng = random.Random(seed)
    kinds = ["distribution_center", "warehouse", "store", "3pl", "dropship"]
    return [
        node(
            i,
            f"N-{i:03d}",
            kind=rng.choice(kinds),
            at=(rng.uniform(30, 45), rng.uniform(-120, -72)),
            stock={p: rng.randint(0, 4) for p in range(1, 9) if rng.random() < 0.4},
            priority=rng.choice([10, 50, 100]),
            reported=NOW - timedelta(hours=rng.randint(0, 60)),
            capacity_used_today=rng.randint(0, 1100),
        )
        for i in range(count)
    ]


def test_shuffled_nodes_give_the_identical_plan():
    # given
    nodes = random_nodes(seed=7, count=60)
    demand = order(line(1, 1, 3), line(2, 2, 2), line(3, 5), line(4, 8, 6))
    config = rules(filters={"max_inventory_age_hours": 48, "store_min_stock": 1})
    shuffled = list(nodes)
    random.Random(3).shuffle(shuffled)

    # when
    first = plan_order(demand, nodes, config, now=NOW).to_dict()
    second = plan_order(demand, shuffled, config, now=NOW).to_dict()

    # then
    assert first == second
    assert first["outcome"] in ("routed", "partially_backordered")
    assert [c["code"] for c in first["candidates"]] == sorted(n.code for n in nodes)


def test_to_dict_is_json():
    # given
    nodes = [node(1, "A", stock={1: 3}), node(2, "B", stock={1: 5}, is_active=False)]

    # when
    data = plan_order(order(line(1, 1, 4)), nodes, RuleConfig(), now=NOW).to_dict()

    # then
    assert json.loads(json.dumps(data)) == data
    assert data["assignments"] == [{"line_id": 1, "node_id": 1, "node_code": "A", "quantity": 3}]
    assert data["backordered"] == [{"line_id": 1, "quantity": 1}]
    assert data["candidates"][1] == {
        "node_id": 2,
        "code": "B",
        "kind": "distribution_center",
        "eligible": False,
        "excluded": [
            {
                "filter": "inactive",
                "reason": "Distribution center B excluded: inactive",
                "sku": None,
            }
        ],
        "distance_miles": 0.0,
        "usable": {"SKU-1": 5},
        "score_components": {"cost": 6.0, "distance": 0.0, "priority": 5.0, "stock_depth": -0.3125},
        "score": 10.6875,
    }


def test_stored_dict_keeps_the_chosen_the_best_others_and_counts_every_exclusion():
    # given: A is chosen; 15 farther nodes could also ship; 12 inactive; 8 have no stock
    nodes = [node(1, "A", stock={1: 5})]
    nodes += [node(100 + i, f"ELIG-{i:02d}", at=FAR, priority=i, stock={1: 5}) for i in range(15)]
    nodes += [
        node(200 + i, f"OFF-{i:02d}", priority=i, stock={1: 5}, is_active=False) for i in range(12)
    ]
    nodes += [node(300 + i, f"EMPTY-{i:02d}", priority=i) for i in range(8)]
    plan = plan_order(order(line(1, 1, 2)), nodes, RuleConfig(), now=NOW)

    # when
    stored = plan.to_stored_dict()

    # then: the decision itself is the whole plan's
    full = plan.to_dict()
    for key in ("outcome", "assignments", "backordered", "shipments", "score", "explanation"):
        assert stored[key] == full[key]
    assert json.loads(json.dumps(stored)) == stored
    # the chosen node, the 10 best other eligible ones, the 10 best-scored excluded ones
    by_code = {c["code"]: c for c in full["candidates"]}

    def best(rows):
        return sorted(rows, key=lambda c: (c["score"], c["code"]))[:10]

    others = best(c for c in full["candidates"] if c["eligible"] and c["code"] != "A")
    excluded = best(c for c in full["candidates"] if not c["eligible"])
    assert [c["code"] for c in stored["candidates"]] == sorted(
        ["A"] + [c["code"] for c in others] + [c["code"] for c in excluded]
    )
    assert [c["code"] for c in others] == [f"ELIG-{i:02d}" for i in range(10)]
    for row in stored["candidates"]:
        assert row == by_code[row["code"]]  # kept as to_dict() writes it, reasons included
    [off] = by_code["OFF-00"]["excluded"]
    assert off["reason"] == "Distribution center OFF-00 excluded: inactive"
    # every candidate counted, by filter
    assert stored["candidates_total"] == 36
    assert stored["candidates_eligible"] == 16
    assert stored["exclusion_counts"] == {"inactive": 12, "no_stock": 8}


def test_stored_dict_of_a_small_network_keeps_every_candidate():
    nodes = [node(1, "A", stock={1: 3}), node(2, "B", stock={1: 5}, is_active=False)]
    plan = plan_order(order(line(1, 1, 4)), nodes, RuleConfig(), now=NOW)

    stored = plan.to_stored_dict()

    assert stored["candidates"] == plan.to_dict()["candidates"]
    assert stored["exclusion_counts"] == {"inactive": 1}
    assert (stored["candidates_total"], stored["candidates_eligible"]) == (2, 1)


@pytest.mark.parametrize(
    ("_case", "demand", "now", "message"),
    [
        ("naive now", order(line(1, 1)), NOW.replace(tzinfo=None), "now must be timezone-aware"),
        ("no lines", order(), NOW, "an order needs at least one line"),
        ("zero quantity", order(line(1, 1, 0)), NOW, "line quantities must be 1 or more"),
        ("duplicate line ids", order(line(1, 1), line(1, 2)), NOW, "line ids must be unique"),
        (
            "unknown method",
            order(line(1, 1), method="drone"),
            NOW,
            "unknown delivery method 'drone'",
        ),
    ],
)
def test_malformed_input_is_a_programming_error(_case, demand, now, message):
    # when / then
    with pytest.raises(ValueError, match=message):
        plan_order(demand, [], RuleConfig(), now=now)
