"""plan_without_reserving(): what routing would decide for an order now, changing nothing.

The cutover's shadow run (migration/services/shadow.py) compares this with the legacy system's
decision, and `backtest_rules --against legacy` replays a candidate set (`rule_set=`) over the
mirrored legacy orders (migration/services/legacy_backtest.py). Same inputs as route_order()
(the active rule set of the order's channel, today's stock and load, loaded in the same
constant number of queries), the whole quantity of every live line, and no reservation,
decision row or event.
"""

from dataclasses import dataclass

from django.utils import timezone

from fulfillment.models import RoutingRuleSet
from fulfillment.rules import RuleConfig
from fulfillment.selectors import active_rule_set_for
from fulfillment.services.routing import destination_of, load_routing_inputs
from fulfillment.sourcing import Destination, Plan, plan_order
from orders.models import LineStatus, Order, OrderLine


@dataclass(frozen=True)
class DryPlan:
    plan: Plan
    rule_set: RoutingRuleSet | None
    destination: Destination


def plan_without_reserving(order: Order, *, rule_set: RoutingRuleSet | None = None) -> DryPlan:
    """With the channel's active rule set, or `rule_set` (a candidate) when given."""
    lines = list(
        OrderLine.objects.filter(order_id=order.pk)
        .exclude(status=LineStatus.CANCELLED)
        .order_by("id")
    )
    if rule_set is None:
        rule_set = active_rule_set_for(order.channel_id)
    rules = RuleConfig.model_validate(rule_set.config) if rule_set else RuleConfig()
    inputs = load_routing_inputs(
        order, lines, {line.pk: line.quantity for line in lines}, rules=rules, rule_set=rule_set
    )
    plan = plan_order(inputs.demand, inputs.nodes, rules, now=timezone.now())
    return DryPlan(plan=plan, rule_set=rule_set, destination=destination_of(order))
