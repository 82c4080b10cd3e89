"""Row locks for exception cases: the order first (cases about an order belong to its stream),
then the case. Rule sets are locked alone."""

from oms.core.errors import NotFound
from oms.core.transactions import require_atomic
from ops.models import ExceptionCase, ExceptionRuleSet
from orders.locks import lock_order


def lock_case(case_id: int) -> ExceptionCase:
    require_atomic("lock_case()")
    order_id = (
        ExceptionCase.objects.filter(pk=case_id)
        .values_list("order_id", flat=True)
        .order_by()
        .first()
    )
    if order_id is None and not ExceptionCase.objects.filter(pk=case_id).exists():
        raise NotFound(f"No exception case {case_id}.", code="case_not_found")
    order = lock_order(order_id) if order_id is not None else None
    case = (
        ExceptionCase.objects.select_for_update(of=("self",))
        .select_related("queue", "assignee")
        .get(pk=case_id)
    )
    if order is not None:
        case.order = order
    return case


def lock_rule_set(rule_set_id: int) -> ExceptionRuleSet:
    require_atomic("lock_rule_set()")
    rule_set = (
        ExceptionRuleSet.objects.select_for_update(of=("self",)).filter(pk=rule_set_id).first()
    )
    if rule_set is None:
        raise NotFound(f"No exception rule set {rule_set_id}.", code="rule_set_not_found")
    return rule_set
