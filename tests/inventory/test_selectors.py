"""Inventory selectors: freshness of node reports."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory.selectors import stale_nodes
from inventory.services.feeds import apply_snapshot
from inventory.services.ledger import InitialStock, set_initial_stock
from oms.core.actors import Actor
from tests.factories.inventory import NodeFactory, ProductFactory

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")


def test_stale_nodes_are_active_nodes_with_no_report_within_max_age():
    # given
    now = timezone.now()
    product = ProductFactory(sku="TEE-1")
    NodeFactory(code="counted")
    apply_snapshot(
        node_code="counted",
        as_of=now - timedelta(hours=1),
        counts={"TEE-1": 3},
        source="wms",
        message_id="c-1",
        actor=ACTOR,
    )
    seeded_recently, seeded_long_ago = NodeFactory(code="seeded"), NodeFactory(code="old")
    for node, reported in ((seeded_recently, now), (seeded_long_ago, now - timedelta(days=2))):
        set_initial_stock(
            node_id=node.pk,
            levels=[InitialStock(product.pk, on_hand=1)],
            actor=ACTOR,
            reported_at=reported,
        )
    NodeFactory(code="never")
    NodeFactory(code="closed", is_active=False)

    # when
    within_a_day = stale_nodes(timedelta(days=1))
    within_ten_minutes = stale_nodes(timedelta(minutes=10))

    # then
    assert [n.code for n in within_a_day] == ["never", "old"]
    assert [n.code for n in within_ten_minutes] == ["counted", "never", "old"]
