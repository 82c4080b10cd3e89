"""Fulfillment models, one module per meaning: routing rules and decisions, fulfillment orders
(the work a node does for an order), shipments and their tracking."""

from fulfillment.models.fulfillment_orders import (
    FulfillmentOrder,
    FulfillmentOrderLine,
    FulfillmentStatus,
)
from fulfillment.models.node_requests import NodeRequest, NodeRequestKind, NodeRequestStatus
from fulfillment.models.routing import (
    BacktestReport,
    RoutingDecision,
    RoutingOutcome,
    RoutingRuleSet,
    RoutingTrigger,
)
from fulfillment.models.shipments import Shipment, ShipmentLine, ShipmentStatus, TrackingEvent
from oms.core.models import RuleSetStatus

__all__ = [
    "BacktestReport",
    "FulfillmentOrder",
    "FulfillmentOrderLine",
    "FulfillmentStatus",
    "NodeRequest",
    "NodeRequestKind",
    "NodeRequestStatus",
    "RoutingDecision",
    "RoutingOutcome",
    "RoutingTrigger",
    "RoutingRuleSet",
    "RuleSetStatus",
    "Shipment",
    "ShipmentLine",
    "ShipmentStatus",
    "TrackingEvent",
]
