"""Channel setup: the admin (add, secrets written once and never shown again, rotation, test
connection against a fake Shopify), `manage.py create_channel`, and credentials at rest."""

import json

import pytest
from django.core.management import call_command
from django.db import connection as db_connection

from channels.models import ChannelConnection
from channels.services.setup import create_channel
from tests.corpus import corpus
from tests.factories.users import superuser

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/channels/channelconnection/"


@pytest.fixture
def admin_client(client):
    client.force_login(superuser("root"))
    return client


def test_adding_a_channel_in_the_admin_shows_the_generated_webhook_secret_once(admin_client):
    answer = admin_client.post(
        f"{CHANGELIST}add/",
        {
            "code": "shopify-eu",
            "name": "Shopify EU",
            "platform": "shopify",
            "base_url": "https://eu-shop.myshopify.com/admin/api/2026-07",
            "new_credentials": "shpat_secret_token",
            "new_webhook_secret": "",
            "inbound_enabled": "on",
            "outbound_enabled": "on",
            "settings": "{}",
        },
        follow=True,
    )
    assert answer.status_code == 200
    connection = ChannelConnection.objects.get(channel__code="shopify-eu")
    shown = [str(m) for m in answer.context["messages"]]
    assert any(connection.webhook_secret in m and "shown once" in m for m in shown)
    page = admin_client.get(f"{CHANGELIST}{connection.pk}/change/").content.decode()
    assert connection.webhook_secret not in page
    assert "shpat_secret_token" not in page
    assert "credentials set, webhook secret set (never shown again)" in page
    assert "/webhooks/shopify/shopify-eu/" in page


def test_secrets_are_encrypted_at_rest_and_kept_out_of_history(db):
    connection = create_channel(
        code="shop", platform="shopify", webhook_secret="whsec-clear", credentials="shpat-clear"
    )
    with db_connection.cursor() as cursor:
        cursor.execute(
            "SELECT credentials, webhook_secret FROM channels_channelconnection WHERE id = %s",
            [connection.pk],
        )
        credentials, secret = cursor.fetchone()
    assert "shpat-clear" not in credentials
    assert "whsec-clear" not in secret
    assert credentials.startswith("gAAAA")  # a Fernet token
    history = connection.history.values()[0]
    assert "credentials" not in history
    assert "webhook_secret" not in history


def test_rotating_the_webhook_secret_shows_the_new_one_once(admin_client):
    connection = create_channel(code="shop", platform="shopify", webhook_secret="old")
    answer = admin_client.post(
        CHANGELIST,
        {"action": "rotate_webhook_secret", "_selected_action": [connection.pk]},
        follow=True,
    )
    connection.refresh_from_db()
    assert connection.webhook_secret != "old"
    assert any(connection.webhook_secret in str(m) for m in answer.context["messages"])


def test_test_connection_calls_the_platform_with_the_stored_token(admin_client, fake):
    fake.answer("GET", "/admin/api/2026-07/shop.json", {"shop": {"id": 1, "name": "Demo"}})
    connection = create_channel(
        code="shop",
        platform="shopify",
        base_url=f"{fake.base_url}/admin/api/2026-07",
        credentials="shpat_token",
    )
    answer = admin_client.post(
        CHANGELIST,
        {"action": "test_connection_action", "_selected_action": [connection.pk]},
        follow=True,
    )
    messages = [str(m) for m in answer.context["messages"]]
    assert any("GET /admin/api/2026-07/shop.json answered 200" in m for m in messages), messages
    [call] = fake.calls("GET", "/admin/api/2026-07/shop.json")
    assert call.headers["x-shopify-access-token"] == "shpat_token"
    assert all("shpat_token" not in m for m in messages)


def test_an_endpoint_the_ssrf_guard_refuses_fails_the_test_connection(admin_client):
    connection = create_channel(
        code="shop", platform="shopify", base_url="http://169.254.169.254/latest", credentials="t"
    )
    answer = admin_client.post(
        CHANGELIST,
        {"action": "test_connection_action", "_selected_action": [connection.pk]},
        follow=True,
    )
    assert any("endpoint refused" in str(m) for m in answer.context["messages"])


def test_create_channel_command(capsys, db):
    call_command(
        "create_channel", "--code", "woo", "--platform", "woocommerce", "--webhook-secret", "s3"
    )
    connection = ChannelConnection.objects.get(channel__code="woo")
    assert (connection.platform, connection.webhook_secret) == ("woocommerce", "s3")
    assert "/webhooks/woocommerce/woo/" in capsys.readouterr().out


def test_a_woocommerce_ping_is_acknowledged_and_a_bad_signature_stores_nothing(client, db):
    from integrations.models import InboundMessage
    from tests.channels.platforms import SECRET, post, signed

    create_channel(code="woo", platform="woocommerce", webhook_secret=SECRET)
    raw = b"webhook_id=12"
    ping = client.post(
        "/webhooks/woocommerce/woo/",
        raw,
        content_type="application/x-www-form-urlencoded",
        **{k: v for k, v in signed("woocommerce", raw, "p-1").items() if "TOPIC" not in k},
    )
    assert ping.status_code == 200
    assert ping.json()["results"] == [{"status": "ignored"}]
    order = json.loads(corpus("woocommerce/wp_api_v3__orders__create_an_order.json").read_text())
    forged = client.post(
        "/webhooks/woocommerce/woo/",
        json.dumps(order),
        content_type="application/json",
        HTTP_X_WC_WEBHOOK_TOPIC="order.created",
        HTTP_X_WC_WEBHOOK_SIGNATURE="bm90IGl0",
    )
    assert forged.status_code == 401
    assert not InboundMessage.objects.exists()
    assert post(client, "woocommerce", "woo", order).status_code == 200


def test_the_dashboard_shows_each_channels_health(admin_client, client):
    from tests.channels.platforms import SECRET, post

    create_channel(code="shopify-us", platform="shopify", webhook_secret=SECRET)
    order = json.loads(corpus("shopify/api_ruby__order.json").read_text())["order"]
    post(client, "shopify", "shopify-us", order)  # unknown SKUs here: refused
    page = admin_client.get("/admin/")
    rows = page.context["kpi"]["sales_channels"]
    assert [(r["code"], r["refused_in"], r["dead_out"], r["bad"]) for r in rows] == [
        ("shopify-us", 1, 0, True)
    ]
    assert 'id="kpi-sales-channels"' in page.content.decode()
