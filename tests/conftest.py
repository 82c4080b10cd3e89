import os
from typing import Any

import django_fsm
import pytest
from django.db import connection
from rest_framework.test import APIClient

from orders.models import Channel
from tests.factories.orders import ChannelFactory, issue_api_key


class _LiveModelsOnly:
    """django_fsm's class_prepared, connecting the FSM fields of live models only.

    Every FSM field connects a receiver to class_prepared when its model class is built, and a
    migration builds the historical models (module `__fake__`) of each state it passes through
    again and again: migrating a database from scratch left hundreds of receivers, every model
    built called them all, and that was half the CPU of the migration (12.3 → 6.6 s per test
    database; 15 → 5 s to migrate back tests/inventory/test_feed_log_migration.py's 23
    migrations). A historical model has no transition methods for a receiver to collect."""

    def __init__(self, signal: Any) -> None:
        self.signal = signal

    def connect(self, receiver: Any, *args: Any, **kwargs: Any) -> None:
        field = getattr(receiver, "__self__", None)
        if getattr(getattr(field, "base_cls", None), "__module__", None) == "__fake__":
            return
        self.signal.connect(receiver, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:  # everything else is the signal's own
        return getattr(self.signal, name)


@pytest.fixture(scope="session")
def _fsm_receivers_of_live_models_only():
    """For the whole session, from before the test database is migrated (_real_database)."""
    signal = django_fsm.class_prepared
    django_fsm.class_prepared = _LiveModelsOnly(signal)
    yield
    django_fsm.class_prepared = signal


@pytest.fixture(autouse=True, scope="session")
def _real_database(_fsm_receivers_of_live_models_only, django_db_setup, django_db_blocker):
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
