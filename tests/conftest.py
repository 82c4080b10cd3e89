import os

import pytest
from django.db import connection
from rest_framework.test import APIClient

from orders.models import Channel
from tests.factories.orders import ChannelFactory, issue_api_key


@pytest.fixture(autouse=True, scope="session")
def _real_database(django_db_setup, django_db_blocker):
    """`make test` runs on PostgreSQL: concurrency and constraints mean nothing on SQLite."""
    if os.environ.get("OMS_TESTS_ALLOW_SQLITE") != "1":
        with django_db_blocker.unblock():
            assert connection.vendor == "postgresql", "run the suite with `make test`"


@pytest.fixture
def web_channel(db) -> Channel:
    return ChannelFactory(code="web", name="Web shop")


@pytest.fixture
def pos_channel(db) -> Channel:
    return ChannelFactory(code="pos", name="Stores POS")


def bearer_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def web_api(web_channel) -> APIClient:
    """An API client authenticated as a web-channel key."""
    return bearer_client(issue_api_key(web_channel, "storefront").key)


@pytest.fixture
def pos_api(pos_channel) -> APIClient:
    return bearer_client(issue_api_key(pos_channel, "pos").key)


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker on Redis, reading the test database (see tests/celery_worker.py)."""
    from tests.celery_worker import running_worker

    with running_worker() as worker:
        yield worker


@pytest.fixture(autouse=True)
def _fresh_routing_load():
    """Routing caches each node's daily load for a few seconds per process; tests start clean."""
    from fulfillment.services.routing import forget_cached_load

    forget_cached_load()
