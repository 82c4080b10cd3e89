import pytest
from django.test import Client

from tests.stores import scenario


@pytest.fixture
def nodes(db):
    return scenario.network()


@pytest.fixture
def catalog(db):
    return scenario.products()


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run on-commit work (release, reroute) of what happens inside the test transaction."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def alice(nodes):
    """An associate of store A only."""
    return scenario.associate("alice", nodes["a"])


@pytest.fixture
def bob(nodes):
    """An associate of store B only."""
    return scenario.associate("bob", nodes["b"])


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(alice) -> Client:
    return client_for(alice)


@pytest.fixture
def bob_client(bob) -> Client:
    return client_for(bob)
