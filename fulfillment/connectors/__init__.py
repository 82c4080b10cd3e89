"""Node connectors: how a fulfillment order reaches a node (one interface, one adapter per
kind of node system). Chosen per node by `Node.connector`. The X12 file connector has its own
package, fulfillment/x12/ (it registers itself from connector.py)."""

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
