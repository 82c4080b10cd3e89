import json

import pytest

from fulfillment.rules import (
    DELIVERY_METHODS,
    NODE_KINDS,
    RULE_CONFIG_JSON_SCHEMA,
    SERVICE_LEVELS,
    RuleConfig,
    validate_rule_config,
)
from inventory.models import NodeKind
from orders.models import DeliveryMethod, ServiceLevel


def test_empty_json_is_the_default_rule_set():
    # when
    config, errors = validate_rule_config({})

    # then
    assert errors == []
    assert config == RuleConfig()
    assert config.filters.service_level_node_kinds == {
        "express": ["distribution_center", "warehouse"],
        "same_day": ["store"],
    }
    assert (config.filters.require_capability, config.filters.respect_daily_capacity) == (
        True,
        True,
    )
    assert (config.filters.store_min_stock, config.filters.max_inventory_age_hours) == (0, None)
    assert config.costs.per_shipment == {
        "distribution_center": 6.0,
        "warehouse": 6.0,
        "store": 8.5,
        "3pl": 7.0,
        "dropship": 9.0,
    }
    assert (config.max_shipments, config.partial_policy, config.backorder_policy) == (
        3,
        "split",
        "backorder",
    )
    assert (config.split_lines, config.fallback_location) == (True, None)


def test_a_stored_rule_set_reads_back_identical():
    # given
    data = {
        "filters": {
            "allowed_regions": {"NY": ["east"]},
            "excluded_nodes": ["NYC-5TH"],
            "max_inventory_age_hours": 24,
        },
        "weights": {"distance": 0.5, "shipments": 10},
        "fallback_location": {"latitude": 39.8, "longitude": -98.6},
    }
    config, _ = validate_rule_config(data)

    # when
    stored = json.loads(json.dumps(config.model_dump(mode="json")))

    # then
    assert validate_rule_config(stored) == (config, [])


def test_per_shipment_costs_left_out_keep_their_defaults():
    # when
    config, errors = validate_rule_config({"costs": {"per_shipment": {"store": 12}}})

    # then
    assert errors == []
    assert config.costs.per_shipment == {
        "distribution_center": 6.0,
        "warehouse": 6.0,
        "store": 12.0,
        "3pl": 7.0,
        "dropship": 9.0,
    }


def test_state_codes_are_normalised_to_upper_case():
    # when
    config, errors = validate_rule_config({"filters": {"allowed_regions": {" ny ": ["east"]}}})

    # then
    assert errors == []
    assert config.filters.allowed_regions == {"NY": ["east"]}


@pytest.mark.parametrize(
    ("_case", "data", "expected"),
    [
        (
            "negative weight",
            {"weights": {"distance": -1}},
            ["weights.distance: must be zero or more"],
        ),
        (
            "unknown node kind",
            {"filters": {"service_level_node_kinds": {"express": ["shop"]}}},
            [
                "filters.service_level_node_kinds.express: unknown node kind 'shop' (use one of: "
                "distribution_center, warehouse, store, 3pl, dropship)"
            ],
        ),
        (
            "unknown service level",
            {"filters": {"service_level_node_kinds": {"overnight": ["store"]}}},
            [
                "filters.service_level_node_kinds: unknown service level 'overnight' (use one "
                "of: standard, express, same_day)"
            ],
        ),
        (
            "unknown top-level key",
            {"weight": {"distance": 1}},
            [
                "weight: unknown setting (allowed: filters, weights, costs, max_shipments, "
                "partial_policy, backorder_policy, split_lines, fallback_location)"
            ],
        ),
        (
            "unknown nested key",
            {"weights": {"speed": 1}},
            [
                "weights.speed: unknown setting (allowed: distance, priority, cost, shipments, "
                "stock_depth)"
            ],
        ),
        ("max_shipments 0", {"max_shipments": 0}, ["max_shipments: must be 1 or more"]),
        ("max_shipments 11", {"max_shipments": 11}, ["max_shipments: must be 10 or less"]),
        (
            "max_shipments not whole",
            {"max_shipments": 2.5},
            ["max_shipments: must be a whole number"],
        ),
        (
            "unknown policy",
            {"partial_policy": "never"},
            ["partial_policy: must be 'split' or 'single_node_only'"],
        ),
        ("not a yes/no", {"split_lines": "maybe"}, ["split_lines: must be true or false"]),
        ("not a number", {"weights": {"cost": "cheap"}}, ["weights.cost: must be a number"]),
        (
            "bad state code",
            {"filters": {"allowed_regions": {"New York": ["east"]}}},
            ["filters.allowed_regions: 'New York' is not a two-letter state code"],
        ),
        (
            "no regions for a state",
            {"filters": {"allowed_regions": {"NY": []}}},
            ["filters.allowed_regions.NY: must list at least one value"],
        ),
        (
            "negative store minimum",
            {"filters": {"store_min_stock": -1}},
            ["filters.store_min_stock: must be zero or more"],
        ),
        (
            "zero distance limit",
            {"filters": {"max_distance_miles": 0}},
            ["filters.max_distance_miles: must be more than zero"],
        ),
        (
            "fallback without longitude",
            {"fallback_location": {"latitude": 91}},
            [
                "fallback_location.latitude: must be 90 or less",
                "fallback_location.longitude: is required",
            ],
        ),
        ("section not an object", {"weights": 5}, ["weights: must be a JSON object"]),
        ("not an object at all", ["split"], ["rule set: must be a JSON object"]),
        (
            "several mistakes at once",
            {"weights": {"priority": -2, "stock_depth": -1}, "backorder_policy": "drop"},
            [
                "weights.priority: must be zero or more",
                "weights.stock_depth: must be zero or more",
                "backorder_policy: must be 'backorder' or 'reject'",
            ],
        ),
    ],
)
def test_invalid_rule_sets_are_explained_in_plain_english(_case, data, expected):
    # when
    config, errors = validate_rule_config(data)

    # then
    assert config is None
    assert errors == expected


def test_the_json_schema_forbids_unknown_settings_and_lists_the_vocabularies():
    # when
    schema = RULE_CONFIG_JSON_SCHEMA
    filters = schema["$defs"]["Filters"]

    # then
    assert schema["additionalProperties"] is False
    assert filters["additionalProperties"] is False
    assert list(schema["properties"]) == [
        "filters",
        "weights",
        "costs",
        "max_shipments",
        "partial_policy",
        "backorder_policy",
        "split_lines",
        "fallback_location",
    ]
    kinds = filters["properties"]["service_level_node_kinds"]
    assert kinds["propertyNames"] == {"enum": ["standard", "express", "same_day"]}
    assert kinds["additionalProperties"]["items"]["enum"] == list(NODE_KINDS)
    assert schema["properties"]["max_shipments"]["minimum"] == 1
    assert schema["properties"]["max_shipments"]["maximum"] == 10


def test_vocabularies_match_the_django_choices():
    # then: rules.py stays free of Django imports, so this is what keeps the two in step
    assert tuple(NodeKind.values) == NODE_KINDS
    assert tuple(ServiceLevel.values) == SERVICE_LEVELS
    assert tuple(DeliveryMethod.values) == DELIVERY_METHODS
