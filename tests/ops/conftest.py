import pytest

from fulfillment.models import FulfillmentOrder
from fulfillment.services.orchestration import orchestrate_order
from ops.services.rulesets import (
    approve_exception_rule_set,
    create_exception_rule_set,
    submit_exception_rule_set,
)
from tests.factories.inventory import two_dcs
from tests.factories.orders import captured_order
from tests.factories.users import superuser


@pytest.fixture
def author(db):
    return superuser("rule-author")


@pytest.fixture
def checker(db):
    return superuser("rule-checker")


@pytest.fixture
def active_rules(author, checker):
    """An active set: payments over 500 → p1 in 30 min, web rejections → warehouse p2."""
    rule_set = create_exception_rule_set(
        name="Ops routing",
        author=author,
        rules=[
            {
                "kind": "payment_failed",
                "min_order_value": "500",
                "queue": "payments",
                "priority": "p1",
                "sla_minutes": 30,
            },
            {"kind": "payment_failed", "queue": "payments", "priority": "p2", "sla_minutes": 120},
            {
                "kind": "node_rejected",
                "channel": "web",
                "queue": "warehouse",
                "priority": "p2",
                "sla_minutes": 60,
            },
        ],
    )
    submit_exception_rule_set(rule_set_id=rule_set.pk, user=author)
    return approve_exception_rule_set(rule_set_id=rule_set.pk, approver=checker)


@pytest.fixture
def two_nodes(db):
    """dc-east and dc-west with 5 TEE each."""
    return two_dcs()


@pytest.fixture
def released(two_nodes, django_capture_on_commit_callbacks):
    """A 2-unit TEE order routed and released to dc-east."""
    order = captured_order(skus=["TEE"], quantity=2)
    with django_capture_on_commit_callbacks(execute=True):
        orchestrate_order(order_id=order.pk)
    return FulfillmentOrder.objects.get(order=order)
