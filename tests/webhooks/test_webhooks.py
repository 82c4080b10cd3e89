"""Subscriptions (SSRF rules, patterns, API), matching and the outbox relay."""

import threading

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection, transaction
from rest_framework.test import APIClient

from integrations.models import EventDispatch, WebhookDelivery, WebhookSubscription
from oms.core.actors import Actor
from oms.events.models import Event
from oms.events.services import record_event
from tests.conftest import bearer_client
from tests.factories.orders import ChannelFactory, captured_order, issue_api_key
from webhooks import ssrf
from webhooks.relay import relay_events
from webhooks.replay import replay_order_stream, replay_since
from webhooks.subscriptions import (
    InvalidSubscription,
    create_subscription,
    type_matches,
)

PUBLIC = "93.184.215.14"


@pytest.fixture
def public_dns(monkeypatch):
    monkeypatch.setattr(ssrf, "resolve", lambda host, port: [PUBLIC])


# --- SSRF -------------------------------------------------------------------------------------

REFUSED = [
    "http://127.0.0.1/",
    "http://localhost/",
    "http://[::1]/",
    "http://0.0.0.0/",
    "http://10.0.0.5/",
    "http://192.168.1.1/",
    "http://172.16.0.1/",
    "http://169.254.169.254/latest/meta-data",
    "http://[fe80::1]/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://127.1/",
    "http://[::ffff:127.0.0.1]/",
    "http://[fd00:ec2::254]/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://224.0.0.1/",
    "http://100.64.0.1/",
    "http://user:pass@example.com/",
    "http://example.com@127.0.0.1/",
    "file:///etc/passwd",
    "gopher://example.com/",
    "ftp://example.com/",
    "http:///nohost",
]


@pytest.mark.parametrize("url", REFUSED)
def test_tricky_urls_are_refused(url, settings, monkeypatch):
    settings.OMS_WEBHOOKS_ALLOW_HTTP = True  # refused for the address, not the scheme
    monkeypatch.setattr(ssrf, "resolve", lambda host, port: ["127.0.0.1"])  # localhost etc.
    with pytest.raises(ssrf.WebhookUrlRefused):
        ssrf.check_url(url)


def test_a_name_resolving_to_loopback_is_refused(monkeypatch):
    monkeypatch.setattr(ssrf, "resolve", lambda host, port: [PUBLIC, "127.0.0.1"])
    with pytest.raises(ssrf.WebhookUrlRefused, match="127.0.0.1, a loopback"):
        ssrf.check_url("https://rebinding.example.com/hook")


def test_https_is_required_unless_allowed(public_dns, settings):
    settings.OMS_WEBHOOKS_ALLOW_HTTP = False
    with pytest.raises(ssrf.WebhookUrlRefused, match="https is required"):
        ssrf.check_url("http://hooks.example.com/")
    target = ssrf.check_url("https://hooks.example.com:8443/in?x=1")
    assert (target.host, target.port, target.path) == ("hooks.example.com", 8443, "/in?x=1")
    assert [str(a) for a in target.addresses] == [PUBLIC]


def test_private_addresses_pass_only_when_allowed(settings):
    settings.OMS_WEBHOOKS_ALLOW_HTTP = True
    settings.OMS_WEBHOOKS_ALLOW_PRIVATE = True
    assert str(ssrf.check_url("http://127.0.0.1:8080/").addresses[0]) == "127.0.0.1"


# --- patterns and matching --------------------------------------------------------------------


def test_type_patterns():
    assert type_matches(["*"], "order.created")
    assert type_matches(["fulfillment.*"], "fulfillment.shipped")
    assert not type_matches(["fulfillment.*"], "order.created")
    assert not type_matches(["order.created"], "order.created_more")
    assert not type_matches(["order.*"], "orders.x")


@pytest.mark.django_db
@pytest.mark.parametrize("types", [[], ["order.*.x"], ["fulfil*"], "order.*", [""]])
def test_bad_patterns_are_refused(public_dns, types):
    with pytest.raises(InvalidSubscription):
        create_subscription(name="x", url="https://h.example.com/", event_types=types)


# --- relay ------------------------------------------------------------------------------------


def _event(stream: str, type_: str = "order.created") -> Event:
    with transaction.atomic():
        return record_event(stream=stream, type=type_, actor=Actor.system("t"), payload={})


@pytest.mark.django_db
def test_relay_creates_one_delivery_per_matching_active_subscription(public_dns):
    web, pos = ChannelFactory(code="web"), ChannelFactory(code="pos")
    order = captured_order(channel=web)
    everything = create_subscription(name="all", url="https://a.example.com/", event_types=["*"])
    web_only = create_subscription(
        name="web", url="https://b.example.com/", event_types=["order.*"], channel_code="web"
    )
    pos_only = create_subscription(
        name="pos", url="https://c.example.com/", event_types=["*"], channel_code="pos"
    )
    inactive = create_subscription(name="off", url="https://d.example.com/", event_types=["*"])
    WebhookSubscription.objects.filter(pk=inactive.pk).update(is_active=False)
    other = _event("node:dc-1", "fulfillment.shipped")
    created = Event.objects.get(stream=order.stream, type="order.created")

    assert relay_events() == {"events": 2, "deliveries": 3}
    pairs = set(WebhookDelivery.objects.values_list("subscription_id", "event_id"))
    assert pairs == {
        (everything.pk, created.pk),
        (everything.pk, other.pk),
        (web_only.pk, created.pk),
    }
    assert not pos_only.deliveries.exists()
    assert pos.pk
    assert EventDispatch.objects.count() == 2
    assert relay_events() == {"events": 0, "deliveries": 0}  # dispatched once


@pytest.mark.django_db(transaction=True)
def test_two_relays_at_once_never_create_a_delivery_twice(public_dns):
    create_subscription(name="all", url="https://a.example.com/", event_types=["*"])
    with transaction.atomic():
        for i in range(300):
            record_event(
                stream=f"order:R-{i}",
                type="order.created",
                actor=Actor.system("t"),
                payload={},
                first_in_stream=True,
            )
    barrier = threading.Barrier(4)

    def run() -> None:
        try:
            barrier.wait()
            while relay_events(batch=25)["events"]:
                pass
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert WebhookDelivery.objects.count() == 300
    assert EventDispatch.objects.count() == 300


@pytest.mark.django_db
def test_replay_creates_new_deliveries_of_the_same_events(public_dns):
    order = captured_order(channel=ChannelFactory(code="web"))
    sub = create_subscription(name="all", url="https://a.example.com/", event_types=["*"])
    relay_events()
    first = WebhookDelivery.objects.get()
    assert replay_order_stream(sub.pk, order.number) == 1
    assert replay_since(sub.pk, first.event.occurred_at) == 1
    replays = WebhookDelivery.objects.filter(reason="replay")
    assert {d.event_id for d in replays} == {first.event_id}
    assert len({d.webhook_id for d in replays} | {first.webhook_id}) == 3


# --- API --------------------------------------------------------------------------------------


def _staff(ops: bool = True) -> APIClient:
    user = User.objects.create_user("ops", password="x", is_staff=True)
    if ops:
        user.groups.add(Group.objects.get_or_create(name="ops_admin")[0])
    client = APIClient()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_ops_admin_manages_subscriptions_by_api(public_dns):
    ChannelFactory(code="web")
    api = _staff()
    body = {"name": "erp", "url": "https://erp.example.com/h", "event_types": ["fulfillment.*"]}
    created = api.post("/api/v1/webhook-subscriptions/", body | {"channel": "web"}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["secret"].startswith("whsec_")
    assert created.json()["channel"] == "web"
    pk = created.json()["id"]
    listed = api.get("/api/v1/webhook-subscriptions/").json()
    assert [s["id"] for s in listed] == [pk]
    assert "secret" not in listed[0]
    patched = api.patch(f"/api/v1/webhook-subscriptions/{pk}/", {"is_active": False}, format="json")
    assert patched.json()["is_active"] is False
    refused = api.patch(
        f"/api/v1/webhook-subscriptions/{pk}/", {"url": "https://169.254.169.254/"}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == "webhook_url_refused"
    assert api.delete(f"/api/v1/webhook-subscriptions/{pk}/").status_code == 204
    assert not WebhookSubscription.objects.exists()


@pytest.mark.django_db
def test_others_get_403():
    body = {"url": "https://erp.example.com/h", "event_types": ["*"]}
    key = issue_api_key(ChannelFactory(code="web")).key
    assert bearer_client(key).get("/api/v1/webhook-subscriptions/").status_code == 403
    assert APIClient().post("/api/v1/webhook-subscriptions/", body).status_code == 403
    assert _staff(ops=False).get("/api/v1/webhook-subscriptions/").status_code == 403


# --- admin ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_creates_a_subscription_showing_the_secret_once_and_lists_deliveries(
    public_dns, client
):
    admin = User.objects.create_superuser("root", password="x")
    client.force_login(admin)
    response = client.post(
        "/admin/integrations/webhooksubscription/add/",
        {"name": "erp", "url": "https://erp.example.com/h", "event_types": ["order.*", "*"]},
        follow=True,
    )
    assert response.status_code == 200
    sub = WebhookSubscription.objects.get()
    assert sub.event_types == ["order.*", "*"]
    assert sub.created_by == admin
    assert sub.secret in response.content.decode()
    refused = client.post(
        "/admin/integrations/webhooksubscription/add/",
        {"name": "x", "url": "https://10.0.0.5/", "event_types": ["*"]},
    )
    assert "refused" in refused.content.decode()
    typo = client.post(  # event types are chosen from the catalogue, not typed
        "/admin/integrations/webhooksubscription/add/",
        {"name": "x", "url": "https://erp.example.com/t", "event_types": ["order.creatd"]},
    )
    assert "order.creatd is not one of the available choices" in typo.content.decode()
    _event("order:A-1")
    relay_events()
    assert client.get("/admin/integrations/webhookdelivery/").status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert (
        client.get(f"/admin/integrations/webhookdelivery/{delivery.pk}/change/").status_code == 200
    )
    assert (
        client.get(f"/admin/integrations/webhooksubscription/{sub.pk}/change/").status_code == 200
    )
