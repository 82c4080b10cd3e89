from inventory.models import Node, NodeQuerySet, Product, normalize_sku
from oms.core.queries import unique_or_none


def products_by_sku(skus: list[str]) -> dict[str, Product]:
    """Active and inactive products keyed by normalised SKU (callers decide what inactive means)."""
    wanted = {normalize_sku(s) for s in skus}
    return {p.sku: p for p in Product.objects.filter(sku__in=wanted)}


def pickup_nodes() -> NodeQuerySet:
    return Node.objects.pickup_points()


def get_node_by_code(code: str) -> Node | None:
    return unique_or_none(Node.objects.filter(code=code))
