"""Routing rule sets: the JSON a rule set stores, its schema, and plain-English validation.

Rules are configuration, not code (DOMAIN.md "Routing (sourcing) rules"): a business user edits
this JSON, a second person approves it, and `fulfillment/sourcing.py` applies it. `RuleConfig()`
is a valid default rule set. What every setting does is in docs/routing.md.

Pure Python on purpose: no Django imports, so the rule set can be validated and routing tested
without a database. The vocabularies below mirror `inventory.models.NodeKind` and
`orders.models.ServiceLevel`/`DeliveryMethod`; tests/fulfillment/test_rules.py checks they agree.
"""

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

NODE_KINDS = ("distribution_center", "warehouse", "store", "3pl", "dropship")
SERVICE_LEVELS = ("standard", "express", "same_day")
DELIVERY_METHODS = ("ship", "pickup", "curbside")

# Shipping from a store costs more than from a DC: store labour is dearer and parcels leave one
# by one instead of on a carrier's daily truck. Business users override these per rule set.
DEFAULT_PER_SHIPMENT_COST = {
    "distribution_center": 6.0,
    "warehouse": 6.0,
    "store": 8.5,
    "3pl": 7.0,
    "dropship": 9.0,
}


def _vocabulary(kind: str, choices: tuple[str, ...]) -> Any:
    def check(value: str) -> str:
        if value not in choices:
            raise PydanticCustomError(
                f"unknown_{kind.replace(' ', '_')}",
                "unknown {kind} '{value}' (use one of: {choices})",
                {"kind": kind, "value": value, "choices": ", ".join(choices)},
            )
        return value

    return Annotated[
        str, AfterValidator(check), WithJsonSchema({"type": "string", "enum": list(choices)})
    ]


def _state_code(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    code = value.strip().upper()
    if len(code) != 2 or not code.isalpha():
        raise PydanticCustomError(
            "state_code", "'{value}' is not a two-letter state code", {"value": value}
        )
    return code


NodeKindName = _vocabulary("node kind", NODE_KINDS)
ServiceLevelName = _vocabulary("service level", SERVICE_LEVELS)
StateCode = Annotated[str, BeforeValidator(_state_code)]
NonEmptyText = Annotated[str, Field(min_length=1)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Filters(_Config):
    require_capability: bool = Field(
        True,
        description="Ship orders only from nodes that can ship (stores: can_ship_from_store); "
        "pickup and curbside only at a node offering them.",
    )
    allowed_regions: dict[StateCode, Annotated[list[NonEmptyText], Field(min_length=1)]] = Field(
        default_factory=dict,
        description="Destination state code -> node fulfillment regions allowed to ship there. "
        "A state not listed may be served by any region.",
    )
    service_level_node_kinds: dict[
        ServiceLevelName, Annotated[list[NodeKindName], Field(min_length=1)]
    ] = Field(
        default_factory=lambda: {
            "express": ["distribution_center", "warehouse"],
            "same_day": ["store"],
        },
        description="Service level -> node kinds allowed to ship it. A level not listed may ship "
        "from any kind.",
    )
    store_min_stock: int = Field(
        0, ge=0, description="Units a store keeps for walk-in shoppers; it routes only the rest."
    )
    excluded_nodes: list[NonEmptyText] = Field(
        default_factory=list, description="Node codes never routed to."
    )
    respect_daily_capacity: bool = Field(
        True, description="Skip a node whose fulfillment orders today reached its daily capacity."
    )
    max_inventory_age_hours: int | None = Field(
        None,
        ge=1,
        description="Ignore a node's stock of a product last reported longer ago than this "
        "(never reported counts as too old). None: no freshness rule.",
    )
    max_distance_miles: float | None = Field(
        None,
        gt=0,
        allow_inf_nan=False,
        description="Skip nodes farther than this from the customer.",
    )


class Weights(_Config):
    """Each score component is multiplied by its weight; a lower score is better."""

    distance: NonNegative = Field(0.01, description="Per mile to the customer.")
    priority: NonNegative = Field(0.05, description="Per point of node priority (lower first).")
    cost: NonNegative = Field(1.0, description="Per unit of estimated shipping cost.")
    shipments: NonNegative = Field(5.0, description="Per shipment in the plan.")
    stock_depth: NonNegative = Field(
        0.25, description="Bonus per unit of stock depth (usable/needed, capped at 5)."
    )


class Costs(_Config):
    per_shipment: dict[NodeKindName, NonNegative] = Field(
        default_factory=lambda: dict(DEFAULT_PER_SHIPMENT_COST),
        description="Cost of one shipment by node kind; kinds left out keep their default.",
    )
    per_mile: NonNegative = Field(0.002, description="Cost per mile from node to customer.")

    @field_validator("per_shipment", mode="after")
    @classmethod
    def _keep_defaults_for_missing_kinds(cls, value: dict[str, float]) -> dict[str, float]:
        merged = {**DEFAULT_PER_SHIPMENT_COST, **value}
        return {kind: merged[kind] for kind in NODE_KINDS}


class Location(_Config):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


class RuleConfig(_Config):
    """One routing rule set, as stored (JSON) and applied by `sourcing.plan_order`."""

    filters: Filters = Field(default_factory=Filters)
    weights: Weights = Field(default_factory=Weights)
    costs: Costs = Field(default_factory=Costs)
    max_shipments: int = Field(
        3, ge=1, le=10, description="Most shipments one order may split into."
    )
    partial_policy: Literal["split", "single_node_only"] = Field(
        "split",
        description="split: several nodes may share an order; single_node_only: one node ships "
        "what it can and the rest is backordered (or rejected).",
    )
    backorder_policy: Literal["backorder", "reject"] = Field(
        "backorder", description="What to do with quantity no node can fill."
    )
    split_lines: bool = Field(
        True, description="Let one line's quantity come from several nodes when no node has it all."
    )
    fallback_location: Location | None = Field(
        None,
        description="Where distances are measured from when the destination cannot be located. "
        "None: distance is not scored for such orders.",
    )


RULE_CONFIG_JSON_SCHEMA: dict[str, Any] = RuleConfig.model_json_schema()


def validate_rule_config(data: Mapping[str, Any]) -> tuple[RuleConfig | None, list[str]]:
    """(config, []) when valid; else (None, messages a business user can read)."""
    try:
        return RuleConfig.model_validate(data), []
    except ValidationError as exc:
        messages: list[str] = []
        for error in exc.errors():
            message = f"{_path(error['loc'])}: {_describe(error)}"
            if message not in messages:
                messages.append(message)
        return None, messages


def _path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if part == "[key]":  # the key itself was wrong: it is named in the message, not the path
            parts.pop()
        elif isinstance(part, str):
            parts.append(part)
    return ".".join(parts) or "rule set"


def _describe(error: Any) -> str:  # pydantic's ErrorDetails
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind.startswith("unknown_") or kind == "state_code":
        return error["msg"]  # ours, already plain words
    if kind == "extra_forbidden":
        allowed = _fields_at(error["loc"][:-1])
        return "unknown setting" + (f" (allowed: {', '.join(allowed)})" if allowed else "")
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        return _bound(kind, ctx)
    if kind == "literal_error":
        return f"must be {ctx.get('expected', 'one of the allowed values')}"
    if kind == "value_error":
        return str(ctx.get("error", "is not valid"))
    return _PLAIN.get(kind, "is not valid")


def _bound(kind: str, ctx: Mapping[str, Any]) -> str:
    limit = next(iter(ctx.values()), None)
    shown = "zero" if limit == 0 else f"{limit:g}" if isinstance(limit, float) else str(limit)
    return {
        "greater_than_equal": f"must be {shown} or more",
        "greater_than": f"must be more than {shown}",
        "less_than_equal": f"must be {shown} or less",
        "less_than": f"must be less than {shown}",
    }[kind]


_PLAIN = {
    "missing": "is required",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "string_type": "must be text",
    "string_too_short": "must not be empty",
    "too_short": "must list at least one value",
    "list_type": "must be a list",
    "dict_type": "must be a JSON object",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
}


def _fields_at(loc: tuple[int | str, ...]) -> list[str]:
    """Setting names allowed at `loc`, found by walking RuleConfig's nested models."""
    model: type[BaseModel] = RuleConfig
    for part in loc:
        field = model.model_fields.get(str(part))
        nested = _model_of(field.annotation) if field else None
        if nested is None:
            return []
        model = nested
    return list(model.model_fields)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    candidates = getattr(annotation, "__args__", None) or (annotation,)
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None
