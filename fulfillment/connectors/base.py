"""The node connector interface.

`send()` is called by the release task outside any transaction (it may do network or file I/O)
and must be idempotent per fulfillment number: the broker can deliver the task twice. A
connector whose `pushes` is False sends nothing anywhere: orchestration releases to it inside
its own transaction. `after_release()` runs after the release is committed (the simulated WMS
schedules its answers there, so they can never arrive before we know the order was released).
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


class ConnectorUnavailable(Exception):
    """Retryable: the node system timed out or answered 5xx."""


class ConnectorRefused(Exception):
    """Terminal: the node system refused the request (bad data, unknown item)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ReleaseLine:
    line_id: int  # the fulfillment order line
    sku: str
    name: str
    quantity: int


@dataclass(frozen=True)
class ReleasePayload:
    fulfillment_id: int
    number: str
    order_number: str
    node_code: str
    delivery_method: str
    service_level: str
    ship_to: dict[str, str]
    customer_name: str
    lines: tuple[ReleaseLine, ...]
    placed_at: datetime
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NodeRequestPayload:
    """A request about work the node already holds (fulfillment/models/node_requests.py): for a
    cancel, `fulfillment.lines` are the units asked back; for an address change,
    `fulfillment.ship_to` is the new address. The node answers through its way back (node API
    `confirm-request` / `refuse-request`, the simulated WMS)."""

    request_id: int
    kind: str  # cancel | address_change
    fulfillment: ReleasePayload
    reason: str


@dataclass(frozen=True)
class ReleaseAck:
    reference: str  # the node's own id for the work, when it gives one


class NodeConnector(Protocol):
    # False when send() leaves the process with nothing (no network, no file) and never
    # refuses: orchestration then releases inside its own transaction, under the order lock it
    # already holds, instead of committing first and locking again (release_pulled()).
    pushes: bool

    def send(self, payload: ReleasePayload) -> ReleaseAck: ...

    def after_release(self, fulfillment_id: int, settings: dict[str, Any]) -> None: ...

    def send_request(self, payload: NodeRequestPayload) -> None:
        """Deliver a cancel or address-change request; idempotent per request id."""
        ...


class ApiConnector:
    """The node works through the oms API (or the store screens): nothing to push."""

    pushes = False

    def send(self, payload: ReleasePayload) -> ReleaseAck:
        return ReleaseAck(reference="")

    def after_release(self, fulfillment_id: int, settings: dict[str, Any]) -> None:
        return None

    def send_request(self, payload: NodeRequestPayload) -> None:
        # The node sees its open requests on GET /api/v1/fulfillments/{number}/ and answers
        # with POST .../confirm-request/ or .../refuse-request/.
        return None


_REGISTRY: dict[str, NodeConnector] = {"api": ApiConnector()}


def register_connector(kind: str, connector: NodeConnector) -> None:
    _REGISTRY[kind] = connector


def connector_for(kind: str) -> NodeConnector:
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise ConnectorRefused("unknown_connector", f"No node connector {kind!r}.") from None
