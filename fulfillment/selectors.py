from fulfillment.models import FulfillmentOrder, RoutingDecision, RoutingRuleSet, RuleSetStatus
from fulfillment.models.fulfillment_orders import FulfillmentOrderQuerySet
from oms.core.errors import NotFound
from oms.core.queries import unique_or_none


def active_rule_set_for(channel_id: int | None) -> RoutingRuleSet | None:
    """The channel's own active set, else the default (channel-less) active set, else None
    (routing then uses the built-in defaults of fulfillment.rules.RuleConfig)."""
    active = {
        rs.channel_id: rs
        for rs in RoutingRuleSet.objects.filter(status=RuleSetStatus.ACTIVE).filter(
            channel_id__in=[channel_id] if channel_id else []
        )
        | RoutingRuleSet.objects.filter(status=RuleSetStatus.ACTIVE, channel__isnull=True)
    }
    return active.get(channel_id) or active.get(None)


def decisions_for_order(order_id: int) -> list[RoutingDecision]:
    return list(
        RoutingDecision.objects.filter(order_id=order_id).select_related("rule_set").order_by("id")
    )


def fulfillments_visible_to_node(node_id: int) -> FulfillmentOrderQuerySet:
    return (
        FulfillmentOrder.objects.filter(node_id=node_id)
        .select_related("node", "order")
        .prefetch_related("lines__order_line", "shipments")
    )


def get_fulfillment_for_node(node_id: int, number: str) -> FulfillmentOrder:
    """The node's own fulfillment order; any other is `fulfillment_not_found` (404)."""
    found = unique_or_none(fulfillments_visible_to_node(node_id).filter(number=number))
    if found is None:
        raise NotFound(f"No fulfillment order {number}.", code="fulfillment_not_found")
    return found
