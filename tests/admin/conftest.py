import pytest
from django.contrib.messages import get_messages
from django.test import Client

from tests.factories.users import superuser


@pytest.fixture
def admin_user_(db):
    return superuser()


@pytest.fixture
def superuser_client(admin_user_) -> Client:
    client = Client()
    client.force_login(admin_user_)
    return client


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def messages_of(response) -> list[tuple[str, str]]:
    """(level tag, text) of the messages the request queued."""
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]
