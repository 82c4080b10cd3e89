"""Admin for routing: rule sets (drafted, backtested, approved and retired through
fulfillment.services), their backtest reports and the routing decisions, all read-only except
through those services (see oms/core/admin_actions.py)."""

from fulfillment.admin.backtests import BacktestReportAdmin
from fulfillment.admin.decisions import RoutingDecisionAdmin, routing_panel_context
from fulfillment.admin.rulesets import RoutingRuleSetAdmin

__all__ = [
    "BacktestReportAdmin",
    "RoutingDecisionAdmin",
    "RoutingRuleSetAdmin",
    "routing_panel_context",
]
