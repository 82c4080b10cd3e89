"""The demo's routing rules, so routing is rule-driven and shows on orders: stores keep one unit
of each product for walk-in shoppers, and express ships only from distribution centers (the
built-in default for service levels)."""

from datetime import datetime, timedelta

from fulfillment.selectors import active_rule_set_for
from fulfillment.services.backtest import run_backtest
from fulfillment.services.rulesets import approve_rule_set, create_rule_set, submit_rule_set

DEMO_RULES = {"filters": {"store_min_stock": 1}}


def ensure_default_rule_set(now: datetime) -> None:
    """An active default rule set, unless there is one already. Seeded by the system, so it
    skips maker-checker (which needs two people); it still goes through submit, backtest and
    approve like any rule set."""
    if active_rule_set_for(None) is not None:
        return
    rule_set = create_rule_set(
        key="default",
        name="Default routing",
        config=DEMO_RULES,
        author=None,
        description="Seeded by seed_demo: nearest node that can ship everything, fewest splits.",
    )
    submit_rule_set(rule_set_id=rule_set.pk, user=None)
    run_backtest(
        rule_set_id=rule_set.pk, period_from=now - timedelta(days=30), period_to=now, user=None
    )
    approve_rule_set(rule_set_id=rule_set.pk, approver=None, note="seeded for the demo")
