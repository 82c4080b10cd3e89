"""/api/v1/webhook-subscriptions/: staff in ops_admin (or superusers) with a session manage
subscriptions (create, list, read, change, deactivate, delete); everyone else gets 403.
No request leaves the machine: host names resolve to a documentation address and nothing sends.
"""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from rest_framework.test import APIClient

from integrations.models import WebhookDelivery, WebhookSubscription
from oms.core.actors import Actor
from oms.events.services import record_event
from tests.conftest import bearer_client
from tests.factories.orders import ChannelFactory, issue_api_key
from tests.factories.users import PASSWORD
from webhooks import ssrf
from webhooks.relay import relay_events
from webhooks.subscriptions import create_subscription

pytestmark = pytest.mark.django_db

LIST = "/api/v1/webhook-subscriptions/"
BODY = {"name": "erp", "url": "https://erp.example.com/h", "event_types": ["fulfillment.*"]}


def detail(pk: int) -> str:
    return f"{LIST}{pk}/"


@pytest.fixture(autouse=True)
def _public_dns(monkeypatch):
    monkeypatch.setattr(ssrf, "resolve", lambda host, port: ["93.184.215.14"])


def user(name: str, *, staff: bool = True, ops: bool = False, superuser: bool = False):
    u = get_user_model().objects.create_user(
        name, password=PASSWORD, is_staff=staff, is_superuser=superuser
    )
    if ops:
        u.groups.add(Group.objects.get(name="ops_admin"))  # created by a migration
    return u


def session(u, *, csrf: bool = False) -> APIClient:
    client = APIClient(enforce_csrf_checks=csrf)
    client.force_login(u)
    return client


@pytest.fixture
def ops() -> APIClient:
    return session(user("ops", ops=True))


def existing() -> WebhookSubscription:
    return create_subscription(name="x", url="https://x.example.com/", event_types=["*"])


def test_ops_admin_reads_changes_deactivates_and_reactivates(ops):
    ChannelFactory(code="web")
    created = ops.post(LIST, BODY | {"channel": "web"}, format="json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    sub = WebhookSubscription.objects.get(pk=pk)
    assert created.json()["secret"] == sub.secret
    assert sub.created_by.username == "ops"

    one = ops.get(detail(pk))
    assert one.status_code == 200
    assert one.json()["channel"] == "web"
    assert "secret" not in one.json()

    changed = ops.patch(
        detail(pk),
        {"name": "erp v2", "event_types": ["order.*", "order.*", "*"], "channel": None},
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    assert changed.json()["name"] == "erp v2"
    assert changed.json()["event_types"] == ["order.*", "*"]
    assert changed.json()["channel"] is None
    assert "secret" not in changed.json()

    # deactivated: the relay no longer creates deliveries for it
    assert ops.patch(detail(pk), {"is_active": False}, format="json").json()["is_active"] is False
    with transaction.atomic():
        record_event(stream="order:A-1", type="order.created", actor=Actor.system("t"), payload={})
    relay_events()
    assert not WebhookDelivery.objects.filter(subscription_id=pk).exists()

    # disabled by a 410 earlier: activating again clears the reason
    WebhookSubscription.objects.filter(pk=pk).update(disabled_reason="410 Gone")
    again = ops.patch(detail(pk), {"is_active": True}, format="json").json()
    assert again["is_active"] is True
    assert again["disabled_reason"] == ""


def test_a_subscription_can_be_created_inactive(ops):
    created = ops.post(LIST, BODY | {"is_active": False}, format="json")
    assert created.status_code == 201
    assert created.json()["is_active"] is False
    assert not WebhookSubscription.objects.get().is_active


def test_superusers_may_manage_subscriptions_too():
    root = session(user("root", staff=True, superuser=True))
    assert root.post(LIST, BODY, format="json").status_code == 201
    assert len(root.get(LIST).json()) == 1


def test_deleting_by_api_deletes_the_delivery_log(ops):
    sub = existing()
    with transaction.atomic():
        record_event(stream="order:A-1", type="order.created", actor=Actor.system("t"), payload={})
    relay_events()
    assert WebhookDelivery.objects.filter(subscription=sub).count() == 1
    assert ops.delete(detail(sub.pk)).status_code == 204
    assert not WebhookSubscription.objects.exists()
    assert not WebhookDelivery.objects.exists()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (BODY | {"event_types": []}, "invalid_subscription"),
        (BODY | {"event_types": ["fulfil*"]}, "invalid_subscription"),
        (BODY | {"channel": "nope"}, "invalid_subscription"),
        (BODY | {"url": "https://169.254.169.254/latest"}, "webhook_url_refused"),
        (BODY | {"url": "http://erp.example.com/h"}, "webhook_url_refused"),
        (BODY | {"url": "file:///etc/passwd"}, "webhook_url_refused"),
    ],
)
def test_bad_input_is_a_400_with_a_code(ops, settings, body, code):
    settings.OMS_WEBHOOKS_ALLOW_HTTP = False
    response = ops.post(LIST, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert not WebhookSubscription.objects.exists()


def test_missing_fields_are_a_400(ops):
    assert ops.post(LIST, {"name": "x"}, format="json").status_code == 400
    assert not WebhookSubscription.objects.exists()


def test_a_bad_change_leaves_the_subscription_as_it_was(ops):
    sub = existing()
    response = ops.patch(detail(sub.pk), {"event_types": ["a..b"]}, format="json")
    assert response.status_code == 400
    sub.refresh_from_db()
    assert sub.event_types == ["*"]


def test_a_blank_name_falls_back_to_the_url(ops):
    created = ops.post(LIST, BODY | {"name": " "}, format="json").json()
    assert created["name"] == BODY["url"]
    changed = ops.patch(detail(created["id"]), {"name": ""}, format="json").json()
    assert changed["name"] == BODY["url"]


def test_unknown_subscriptions_are_404(ops):
    assert ops.get(detail(987654)).status_code == 404
    assert ops.patch(detail(987654), {"is_active": False}, format="json").status_code == 404
    assert ops.delete(detail(987654)).status_code == 404


@pytest.mark.parametrize(
    "who",
    ["anonymous", "staff_not_ops", "ops_group_not_staff", "channel_api_key"],
)
def test_everyone_else_gets_403_for_every_method(who):
    sub = existing()
    if who == "anonymous":
        client = APIClient()
    elif who == "staff_not_ops":
        client = session(user("cs", staff=True))
    elif who == "ops_group_not_staff":
        client = session(user("ex-staff", staff=False, ops=True))
    else:
        client = bearer_client(issue_api_key(ChannelFactory(code="web")).key)

    assert client.get(LIST).status_code == 403
    assert client.post(LIST, BODY, format="json").status_code == 403
    assert client.get(detail(sub.pk)).status_code == 403
    assert client.patch(detail(sub.pk), {"is_active": False}, format="json").status_code == 403
    assert client.delete(detail(sub.pk)).status_code == 403

    assert list(WebhookSubscription.objects.values_list("pk", "is_active")) == [(sub.pk, True)]


def test_a_session_write_without_the_csrf_token_is_refused():
    client = session(user("ops", ops=True), csrf=True)
    assert client.get(LIST).status_code == 200  # reads need no token
    response = client.post(LIST, BODY, format="json")
    assert response.status_code == 403
    assert "CSRF" in str(response.json())
    assert not WebhookSubscription.objects.exists()
