"""Node connectors: how a fulfillment order reaches a node (one interface, one adapter per
kind of node system). Chosen per node by `Node.connector`."""

from fulfillment.connectors.base import (
    ConnectorRefused,
    ConnectorUnavailable,
    NodeConnector,
    ReleaseAck,
    ReleasePayload,
    connector_for,
)

__all__ = [
    "ConnectorRefused",
    "ConnectorUnavailable",
    "NodeConnector",
    "ReleaseAck",
    "ReleasePayload",
    "connector_for",
]
