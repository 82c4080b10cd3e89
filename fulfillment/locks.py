from fulfillment.models import RoutingRuleSet
from oms.core.errors import NotFound
from oms.core.transactions import require_atomic


def lock_rule_set(rule_set_id: int) -> RoutingRuleSet:
    require_atomic("lock_rule_set()")
    found = RoutingRuleSet.objects.select_for_update(of=("self",)).filter(pk=rule_set_id).first()
    if found is None:
        raise NotFound(f"No routing rule set {rule_set_id}.", code="rule_set_not_found")
    return found
