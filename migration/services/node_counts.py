"""A node's own counts read through its connector: a query to the node's endpoint.

An API node (connector `api`: it works through the oms API; fulfillment/connectors/base.py)
that also serves its stock says where in its connector settings: `counts_url`, an HTTP(S)
endpoint that answers GET with the node's FULL count in the snapshot feed's shape
(`POST /api/v1/inventory/snapshots/`):

    {"node": "dc-east", "as_of": "2026-12-06T10:00:00Z",
     "counts": [{"sku": "LAMP", "on_hand": 12}, ...]}

`node`, when given, must be the node's code; SKUs resolve through product aliases as on import.
The call goes through the guarded platform client (channels/http.py: SSRF checks on the
address, timeouts, a size limit; `OMS_CHANNELS_ALLOWED_HOSTS` for a node on a private
address). Nothing is written here: the counts go to the same comparison as a count file
(migration/services/reconciliation.py `reconcile_node_queries`).

Problems are report lines, never a traceback: `node_unreachable` (network error or a non-2xx
answer), `bad_response` (not the shape above, another node's count), and per row
`unknown_sku`, `bad_quantity`, `duplicate_in_file`.
"""

from dataclasses import dataclass
from typing import Any

from channels.adapters.base import CallFailed
from channels.http import Client
from inventory.models import Node
from inventory.models import NodeConnector as ConnectorKind
from inventory.services.reconciliation import NodeCount
from migration.importers.catalogue import ProductResolver
from migration.mapping.extract import RowError
from migration.services.report import Report

COUNTS_URL = "counts_url"
# The connectors whose node can be asked for its counts (the node serves them itself).
QUERYABLE = (ConnectorKind.API,)


@dataclass(frozen=True)
class NodeQuery:
    node: Node
    url: str


def queryable_nodes(codes: list[str] | None = None) -> list[NodeQuery]:
    """Active nodes on a queryable connector with a `counts_url` (only `codes`, if given)."""
    nodes = Node.objects.filter(is_active=True, connector__in=QUERYABLE).order_by("code")
    if codes:
        nodes = nodes.filter(code__in=codes)
    return [
        NodeQuery(node, str(node.connector_settings.get(COUNTS_URL) or ""))
        for node in nodes
        if isinstance(node.connector_settings, dict) and node.connector_settings.get(COUNTS_URL)
    ]


def query_node_counts(
    query: NodeQuery, report: Report, products: ProductResolver
) -> list[NodeCount]:
    """The node's counts, each row checked; what cannot be compared goes to `report`."""
    node = query.node
    try:
        body = Client(base_url="").request("GET", "", url=query.url).json()
    except CallFailed as exc:
        report.error(RowError(None, "node_unreachable", "counts_url", exc.detail, node.code))
        report.refused += 1
        return []
    rows = body.get("counts") if isinstance(body, dict) else None
    if not isinstance(rows, list):
        report.error(RowError(None, "bad_response", "counts", "no list of counts", node.code))
        report.refused += 1
        return []
    named = body.get("node")
    if named not in (None, "", node.code):
        detail = f"the answer counts node {named!r}, not {node.code!r}"
        report.error(RowError(None, "bad_response", "node", detail, str(named)))
        report.refused += 1
        return []
    counts: list[NodeCount] = []
    seen: set[int] = set()
    for index, row in enumerate(rows, start=1):
        report.records += 1
        report.rows_read += 1
        error = _check_row(index, row, node, products, seen, counts)
        if error is not None:
            if error.code == "duplicate_in_file":
                report.duplicates_in_file += 1
            report.refuse([error])
            continue
        report.created += 1
    return counts


def _check_row(
    index: int,
    row: Any,
    node: Node,
    products: ProductResolver,
    seen: set[int],
    counts: list[NodeCount],
) -> RowError | None:
    if not isinstance(row, dict):
        return RowError(index, "bad_response", "counts", "a count is not an object", node.code)
    sku, on_hand = str(row.get("sku") or ""), row.get("on_hand")
    product = products.find(sku) if sku else None
    if product is None:
        return RowError(index, "unknown_sku", "sku", "no such product", sku)
    if isinstance(on_hand, bool) or not isinstance(on_hand, int) or on_hand < 0:
        return RowError(index, "bad_quantity", "on_hand", "not a count", str(on_hand))
    if product.pk in seen:
        return RowError(index, "duplicate_in_file", "sku", "counted twice", f"{node.code}/{sku}")
    seen.add(product.pk)
    counts.append(NodeCount(node_id=node.pk, product_id=product.pk, on_hand=on_hand))
    return None
