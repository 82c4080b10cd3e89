import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from orders.models import ApiClient
from tests.conftest import bearer_client
from tests.factories.orders import issue_api_key

KEY_PATTERN = re.compile(r"oms_[0-9a-f]{12}_[\w-]{43}")


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_create_api_client_prints_a_key_that_authenticates(web_channel):
    # given: the web channel exists (fixture)

    # when
    output = run("create_api_client", "--channel", "web", "--name", "storefront")

    # then
    keys = KEY_PATTERN.findall(output)
    assert len(keys) == 1
    assert f"API key for storefront (channel web): {keys[0]}" in output
    assert "will not be shown again" in output
    client = ApiClient.objects.get()
    assert client.name == "storefront"
    assert client.channel_id == web_channel.pk
    assert client.revoked_at is None
    response = bearer_client(keys[0]).get("/api/v1/orders/")
    assert response.status_code == 200


@pytest.mark.django_db
def test_create_api_client_with_unknown_channel_is_a_command_error(web_channel):
    # given: only the web channel exists (fixture)

    # when
    with pytest.raises(CommandError) as excinfo:
        run("create_api_client", "--channel", "nope", "--name", "storefront")

    # then
    assert str(excinfo.value).startswith("No channel 'nope'.")
    assert ApiClient.objects.count() == 0


@pytest.mark.django_db
def test_revoke_api_client_by_prefix_makes_the_key_fail(web_channel):
    # given
    issued = issue_api_key(web_channel, "storefront")

    # when
    output = run("revoke_api_client", "--prefix", issued.client.prefix)

    # then
    assert f"Revoked API client storefront (channel web, prefix {issued.client.prefix})" in output
    issued.client.refresh_from_db()
    assert issued.client.revoked_at is not None
    response = bearer_client(issued.key).get("/api/v1/orders/")
    assert response.status_code == 401
    assert response.json()["code"] == "api_key_revoked"


@pytest.mark.django_db
def test_revoke_api_client_by_id_is_idempotent(web_channel):
    # given
    issued = issue_api_key(web_channel, "storefront")
    run("revoke_api_client", "--id", str(issued.client.pk))
    issued.client.refresh_from_db()
    first_revocation = issued.client.revoked_at

    # when
    run("revoke_api_client", "--id", str(issued.client.pk))

    # then
    issued.client.refresh_from_db()
    assert issued.client.revoked_at == first_revocation
    response = bearer_client(issued.key).get("/api/v1/orders/")
    assert response.status_code == 401
    assert response.json()["code"] == "api_key_revoked"


@pytest.mark.django_db
def test_revoke_api_client_with_unknown_prefix_is_a_command_error(web_channel):
    # given
    issued = issue_api_key(web_channel, "storefront")

    # when
    with pytest.raises(CommandError) as excinfo:
        run("revoke_api_client", "--prefix", "000000000000")

    # then
    assert str(excinfo.value) == "No API client with prefix '000000000000'."
    issued.client.refresh_from_db()
    assert issued.client.revoked_at is None
