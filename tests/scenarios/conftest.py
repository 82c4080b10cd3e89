"""Scenario tests: DOMAIN.md's scenario matrix through the public API, with a real Celery worker
on Redis doing everything asynchronous (routing, releases, the simulated WMS and carrier)."""

from decimal import Decimal

import pytest

from tests.celery_worker import running_worker


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker):
    """One worker for the module (starting one takes seconds); each test flushes the DB."""
    with django_db_blocker.unblock(), running_worker() as worker:
        yield worker


SIMULATED = {"behaviour": "ship", "step_seconds": 0}


@pytest.fixture
def nodes(transactional_db):
    from tests.factories.inventory import NodeFactory, StoreFactory

    return {
        # Columbus OH and Reno NV distribution centers; a Manhattan store.
        "east": NodeFactory(
            code="dc-east",
            latitude=Decimal("39.8700"),
            longitude=Decimal("-82.9500"),
            connector="simulated",
            connector_settings=dict(SIMULATED),
            priority=10,
        ),
        "west": NodeFactory(
            code="dc-west",
            latitude=Decimal("39.5300"),
            longitude=Decimal("-119.7500"),
            connector="simulated",
            connector_settings=dict(SIMULATED),
            priority=10,
        ),
        "nyc": StoreFactory(
            code="store-nyc",
            latitude=Decimal("40.7500"),
            longitude=Decimal("-73.9900"),
            region="NY",
            priority=50,
        ),
    }
