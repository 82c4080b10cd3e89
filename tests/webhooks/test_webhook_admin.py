"""Webhooks in the admin, as an ops_admin user clicks through it: *Retry now* on deliveries,
*Send a test message* on subscriptions, and the two replay dialogs (GET renders the dialog,
POST replays or re-renders it with the refusal), plus who may do any of it.

Nothing here reaches a real network: the sender may connect to 127.0.0.1 only (a local
receiver), and every host name resolves to a documentation address that is never connected to.
"""

import ipaddress
from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from standardwebhooks import Webhook

from integrations.models import (
    DeliveryReason,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from oms.core.actors import Actor
from oms.events.models import Event
from oms.events.services import record_event
from tests.admin.conftest import client_for, messages_of
from tests.factories.orders import ChannelFactory, captured_order
from tests.factories.users import PASSWORD, staff_user
from tests.webhooks.test_webhooks_sending import running_receiver
from webhooks import http, replay, ssrf
from webhooks.relay import relay_events
from webhooks.sending import send_delivery
from webhooks.subscriptions import create_subscription

pytestmark = pytest.mark.django_db

DOC_ADDRESS = "93.184.215.14"  # what every name resolves to here; never connected to
SUBSCRIPTIONS = "admin:integrations_webhooksubscription_changelist"
DELIVERIES = "admin:integrations_webhookdelivery_changelist"
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _no_real_network(monkeypatch):
    real_connect = http._connect

    def loopback_only(address: str, port: int):
        assert ipaddress.ip_address(address).is_loopback, f"tried to connect to {address}"
        return real_connect(address, port)

    monkeypatch.setattr(http, "_connect", loopback_only)
    monkeypatch.setattr(ssrf, "resolve", lambda host, port: [DOC_ADDRESS])


@pytest.fixture
def local(settings):
    """Loopback receivers are allowed (local testing settings)."""
    settings.OMS_WEBHOOKS_ALLOW_HTTP = True
    settings.OMS_WEBHOOKS_ALLOW_PRIVATE = True


@pytest.fixture
def ops():
    return client_for(staff_user("ops", "ops_admin"))


@pytest.fixture
def customer_service():
    return client_for(staff_user("cs", "customer_service"))


@pytest.fixture
def viewer():
    """Staff that may look at subscriptions and deliveries but change nothing."""
    user = get_user_model().objects.create_user(
        "viewer", email="viewer@example.com", password=PASSWORD, is_staff=True
    )
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="integrations",
            codename__in=["view_webhooksubscription", "view_webhookdelivery"],
        )
    )
    return client_for(user)


def event(stream: str, type_: str = "order.status_changed") -> Event:
    with transaction.atomic():
        return record_event(stream=stream, type=type_, actor=Actor.system("test"), payload={})


def subscribe(url: str = "https://erp.example.com/hooks", **kwargs) -> WebhookSubscription:
    kwargs.setdefault("event_types", ["*"])
    return create_subscription(name=kwargs.pop("name", "erp"), url=url, **kwargs)


def deactivate(sub: WebhookSubscription, reason: str = "") -> None:
    WebhookSubscription.objects.filter(pk=sub.pk).update(is_active=False, disabled_reason=reason)


def set_delivery(delivery: WebhookDelivery, **fields) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    delivery.refresh_from_db()


def run_action(client, changelist: str, name: str, *pks: int):
    return client.post(reverse(changelist), {"action": name, ACTION_CHECKBOX_NAME: list(pks)})


def detail_action_url(action: str, sub: WebhookSubscription) -> str:
    return reverse(f"admin:integrations_webhooksubscription_{action}", args=[sub.pk])


def replay_deliveries(sub: WebhookSubscription) -> list[WebhookDelivery]:
    return list(
        WebhookDelivery.objects.filter(subscription=sub, reason=DeliveryReason.REPLAY).order_by(
            "event_id"
        )
    )


# --- Retry now (deliveries) -------------------------------------------------------------------


def _dead_delivery(url: str) -> WebhookDelivery:
    sub = subscribe(url)
    event("order:R-1")
    relay_events()
    delivery = WebhookDelivery.objects.get(subscription=sub)
    set_delivery(
        delivery,
        status=DeliveryStatus.DEAD,
        attempts=20,
        next_attempt_at=None,
        last_status_code=500,
        last_error="HTTP 500",
    )
    return delivery


def test_retry_now_sends_a_dead_delivery_again_with_a_fresh_budget_and_the_same_webhook_id(
    local, ops, django_capture_on_commit_callbacks
):
    with running_receiver() as receiver:
        delivery = _dead_delivery(receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            response = run_action(ops, DELIVERIES, "retry_now", delivery.pk)
        assert receiver.count() == 1

    assert response.status_code == 302
    assert messages_of(response) == [("success", "1 delivery queued to send now.")]
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 1  # a fresh budget: the 20 earlier attempts are forgotten
    assert delivery.last_status_code == 200
    assert delivery.delivered_at is not None
    assert delivery.next_attempt_at is None
    assert delivery.tries.get().status_code == 200
    headers, body = receiver.received[0]
    assert headers["webhook-id"] == delivery.webhook_id  # a retry, not a replay
    data = Webhook(delivery.subscription.secret).verify(body, headers)
    assert data["id"] == str(delivery.event.event_id)


def test_retry_now_reschedules_a_cancelled_delivery_and_a_waiting_one(local, ops):
    sub = subscribe("http://127.0.0.1:9/never-called")
    event("order:R-1")
    event("order:R-2")
    relay_events()
    cancelled, waiting = WebhookDelivery.objects.filter(subscription=sub).order_by("id")
    later = timezone.now() + timedelta(hours=2)
    set_delivery(cancelled, status=DeliveryStatus.CANCELLED, attempts=3, next_attempt_at=None)
    set_delivery(waiting, attempts=4, next_attempt_at=later)

    before = timezone.now()
    response = run_action(ops, DELIVERIES, "retry_now", cancelled.pk, waiting.pk)

    assert messages_of(response) == [("success", "2 deliveries queued to send now.")]
    cancelled.refresh_from_db()
    waiting.refresh_from_db()
    assert cancelled.status == waiting.status == DeliveryStatus.PENDING
    assert before <= cancelled.next_attempt_at <= timezone.now()
    assert before <= waiting.next_attempt_at <= timezone.now()
    assert cancelled.attempts == 0  # cancelled: a fresh budget
    assert waiting.attempts == 4  # still pending: only brought forward
    assert not WebhookAttempt.objects.exists()  # the test transaction never committed: no send


def test_retry_now_refuses_a_delivered_delivery_and_goes_on_with_the_others(local, ops):
    sub = subscribe("http://127.0.0.1:9/never-called")
    event("order:R-1")
    event("order:R-2")
    relay_events()
    delivered, dead = WebhookDelivery.objects.filter(subscription=sub).order_by("id")
    done_at = timezone.now() - timedelta(minutes=5)
    set_delivery(delivered, status=DeliveryStatus.DELIVERED, attempts=1, delivered_at=done_at)
    set_delivery(dead, status=DeliveryStatus.DEAD, attempts=20, next_attempt_at=None)

    response = run_action(ops, DELIVERIES, "retry_now", delivered.pk, dead.pk)

    assert sorted(messages_of(response)) == [
        ("error", f"{delivered.webhook_id}: Delivered already: replay it instead."),
        ("success", "1 delivery queued to send now."),
    ]
    delivered.refresh_from_db()
    assert (delivered.status, delivered.attempts, delivered.delivered_at) == (
        DeliveryStatus.DELIVERED,
        1,
        done_at,
    )
    dead.refresh_from_db()
    assert (dead.status, dead.attempts) == (DeliveryStatus.PENDING, 0)


def test_retry_now_is_refused_while_the_subscription_is_inactive(local, ops):
    delivery = _dead_delivery("http://127.0.0.1:9/never-called")
    deactivate(delivery.subscription, "The endpoint answered 410 Gone.")

    response = run_action(ops, DELIVERIES, "retry_now", delivery.pk)

    assert messages_of(response) == [
        (
            "error",
            f"{delivery.webhook_id}: Activate the subscription before retrying its deliveries.",
        )
    ]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DEAD, 20)


def test_retry_now_needs_change_permission_on_deliveries(local, customer_service, viewer):
    delivery = _dead_delivery("http://127.0.0.1:9/never-called")

    assert run_action(customer_service, DELIVERIES, "retry_now", delivery.pk).status_code == 403
    page = viewer.get(reverse(DELIVERIES))
    assert page.status_code == 200
    assert "retry_now" not in page.content.decode()  # the action is not offered
    response = run_action(viewer, DELIVERIES, "retry_now", delivery.pk)
    assert response.status_code == 200  # the list again, nothing done
    assert messages_of(response) == []

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DEAD, 20)


def test_the_delivery_page_shows_status_attempts_and_the_last_response(local, ops):
    with running_receiver(lambda n: (503, {}, b"maintenance until noon")) as receiver:
        sub = subscribe(receiver.url)
        event("order:R-1")
        relay_events()
        delivery = WebhookDelivery.objects.get(subscription=sub)
        assert send_delivery(delivery.pk) == DeliveryStatus.PENDING

    listing = ops.get(reverse(DELIVERIES)).content.decode()
    assert delivery.webhook_id in listing
    assert "503" in listing
    page = ops.get(reverse("admin:integrations_webhookdelivery_change", args=[delivery.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "maintenance until noon" in html  # the attempt's response body, inline
    assert "HTTP 503" in html  # last error
    assert 'name="_save"' not in html  # read-only: only the services write a delivery
    change = reverse("admin:integrations_webhookdelivery_change", args=[delivery.pk])
    assert ops.post(change, {"status": "delivered"}).status_code == 403
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)


# --- Send a test message (subscriptions) ------------------------------------------------------


def test_send_test_posts_a_signed_webhook_test_and_records_nothing(local, ops):
    with running_receiver() as receiver:
        sub = subscribe(receiver.url, name="erp")
        response = run_action(ops, SUBSCRIPTIONS, "send_test", sub.pk)
        assert receiver.count() == 1

    assert response.status_code == 302
    [(level, text)] = messages_of(response)
    assert level == "success"
    assert text.startswith("erp: HTTP 200 in ")
    headers, body = receiver.received[0]
    assert headers["webhook-id"].startswith("msg_test_")
    data = Webhook(sub.secret).verify(body, headers)
    assert data["type"] == "webhook.test"
    assert data["payload"] == {}
    assert not WebhookDelivery.objects.exists()
    assert not Event.objects.filter(type="webhook.test").exists()


def test_send_test_reports_a_failing_endpoint_with_its_answer(local, ops):
    with running_receiver(lambda n: (500, {}, b"database is down")) as failing:
        broken = subscribe(failing.url, name="broken")
        unreachable = subscribe("http://127.0.0.1:9/nothing-listens", name="unreachable")
        with running_receiver() as fine:
            healthy = subscribe(fine.url, name="healthy")
            response = run_action(
                ops, SUBSCRIPTIONS, "send_test", broken.pk, unreachable.pk, healthy.pk
            )
            assert fine.count() == 1
        assert failing.count() == 1

    found = {text.split(":", 1)[0]: (level, text) for level, text in messages_of(response)}
    assert found["broken"][0] == "error"
    assert "Test answered HTTP 500" in found["broken"][1]
    assert "database is down" in found["broken"][1]
    assert found["unreachable"][0] == "error"
    assert "Test failed: ConnectionRefusedError" in found["unreachable"][1]
    assert found["healthy"][0] == "success"


def test_send_test_refuses_an_address_that_is_no_longer_allowed(local, ops, settings):
    with running_receiver() as receiver:
        sub = subscribe(receiver.url, name="erp")
        settings.OMS_WEBHOOKS_ALLOW_PRIVATE = False  # checked again at send time
        response = run_action(ops, SUBSCRIPTIONS, "send_test", sub.pk)
        assert receiver.count() == 0

    [(level, text)] = messages_of(response)
    assert level == "error"
    assert "127.0.0.1 is a loopback address" in text


def test_send_test_works_on_an_inactive_subscription_to_check_the_endpoint(local, ops):
    with running_receiver() as receiver:
        sub = subscribe(receiver.url, name="erp")
        deactivate(sub, "The endpoint answered 410 Gone.")
        response = run_action(ops, SUBSCRIPTIONS, "send_test", sub.pk)
        assert receiver.count() == 1

    assert messages_of(response)[0][0] == "success"
    sub.refresh_from_db()
    assert not sub.is_active  # a test message does not reactivate it


def test_send_test_needs_change_permission(local, customer_service, viewer):
    with running_receiver() as receiver:
        sub = subscribe(receiver.url)
        assert run_action(customer_service, SUBSCRIPTIONS, "send_test", sub.pk).status_code == 403
        response = run_action(viewer, SUBSCRIPTIONS, "send_test", sub.pk)
        assert response.status_code == 200  # the list again, nothing done
        assert messages_of(response) == []
        assert receiver.count() == 0


# --- Replay from a point in time (dialog) -----------------------------------------------------


@pytest.fixture
def history():
    """Events on both sides of `cut`, in two channels and on a non-order stream."""
    web, pos = ChannelFactory(code="web"), ChannelFactory(code="pos")
    old = captured_order(channel=web, external_id="OLD")
    cut = timezone.now()
    web_order = captured_order(channel=web, external_id="WEB")
    pos_order = captured_order(channel=pos, external_id="POS")
    shipped = event(web_order.stream, "fulfillment.shipped")
    rules = event("routing_rules:1", "routing_rules.created")
    return {
        "cut": cut,
        "old": old,
        "web_order": web_order,
        "pos_order": pos_order,
        "web_created": Event.objects.get(stream=web_order.stream, type="order.created"),
        "pos_created": Event.objects.get(stream=pos_order.stream, type="order.created"),
        "shipped": shipped,
        "rules": rules,
    }


def test_replay_since_dialog_renders(ops, history):
    sub = subscribe()
    response = ops.get(detail_action_url("replay_since_detail", sub), headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="dialog"' in html
    assert "Replay from a point in time" in html
    assert 'name="since"' in html
    assert not WebhookDelivery.objects.exists()
    # the change page offers the dialog
    page = ops.get(reverse("admin:integrations_webhooksubscription_change", args=[sub.pk]))
    assert detail_action_url("replay_since_detail", sub) in page.content.decode()
    assert detail_action_url("replay_order_detail", sub) in page.content.decode()


def test_replay_since_creates_new_deliveries_of_every_matching_event_since_then(ops, history):
    sub = subscribe(event_types=["order.*", "routing_rules.*"])
    relay_events()  # the originals
    originals = {d.event_id: d.webhook_id for d in WebhookDelivery.objects.all()}

    response = ops.post(
        detail_action_url("replay_since_detail", sub),
        {"since": history["cut"].isoformat(), "_form_submitted": "True"},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert response["HX-Redirect"] == (
        reverse(DELIVERIES) + f"?subscription__id__exact={sub.pk}&reason__exact=replay"
    )
    assert messages_of(response) == [("success", "erp: replay queued, 3 new deliveries.")]
    replays = replay_deliveries(sub)
    # since the cut and matching: both order.created and the rules event, not the shipment
    assert [d.event_id for d in replays] == [
        history["web_created"].pk,
        history["pos_created"].pk,
        history["rules"].pk,
    ]
    for d in replays:
        assert d.status == DeliveryStatus.PENDING
        assert d.attempts == 0
        assert d.next_attempt_at is not None
        assert d.webhook_id != originals[d.event_id]  # a new webhook-id: consumers see a replay
    # the filtered delivery list the dialog redirects to shows them
    listing = ops.get(response["HX-Redirect"]).content.decode()
    assert all(d.webhook_id in listing for d in replays)


def test_replay_since_respects_the_channel_filter(ops, history):
    sub = subscribe(event_types=["*"], channel_code="pos")
    response = ops.post(
        detail_action_url("replay_since_detail", sub),
        {"since": history["cut"].isoformat(), "_form_submitted": "True"},
    )
    assert response.status_code == 302  # a plain POST (no htmx) is redirected
    assert [d.event_id for d in replay_deliveries(sub)] == [history["pos_created"].pk]


def test_replayed_deliveries_are_sent_to_the_endpoint(
    local, ops, django_capture_on_commit_callbacks
):
    order = captured_order(channel=ChannelFactory(code="web"))
    cut = timezone.now() - timedelta(minutes=1)
    with running_receiver() as receiver:
        sub = subscribe(receiver.url, event_types=["order.created"])
        with django_capture_on_commit_callbacks(execute=True):
            ops.post(
                detail_action_url("replay_since_detail", sub),
                {"since": cut.isoformat(), "_form_submitted": "True"},
            )
        assert receiver.count() == 1
    [delivery] = replay_deliveries(sub)
    assert delivery.status == DeliveryStatus.DELIVERED
    headers, body = receiver.received[0]
    assert headers["webhook-id"] == delivery.webhook_id
    data = Webhook(sub.secret).verify(body, headers)
    assert data["stream"] == order.stream
    assert data["id"] == str(Event.objects.get(stream=order.stream).event_id)


@pytest.mark.parametrize(
    ("since", "error"),
    [
        ("", "This field is required."),
        ("yesterday-ish", "Enter a valid date/time."),
        ("2026-13-45 25:61", "Enter a valid date/time."),
    ],
)
def test_replay_since_invalid_input_re_renders_the_dialog(ops, history, since, error):
    sub = subscribe()
    response = ops.post(
        detail_action_url("replay_since_detail", sub),
        {"since": since, "_form_submitted": "True"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "HX-Redirect" not in response
    html = response.content.decode()
    assert 'id="dialog-form"' in html
    assert error in html
    assert not WebhookDelivery.objects.exists()


def test_replay_since_refuses_a_start_in_the_future_in_the_dialog(ops, history):
    sub = subscribe()
    future = timezone.now() + timedelta(days=1)
    response = ops.post(
        detail_action_url("replay_since_detail", sub),
        {"since": future.strftime("%Y-%m-%d %H:%M"), "_form_submitted": "True"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "HX-Redirect" not in response
    html = response.content.decode()
    assert 'id="dialog-form"' in html
    assert "is in the future: nothing to replay." in html
    assert 'value="' + future.strftime("%Y-%m-%d %H:%M") + '"' in html  # what was typed stays
    assert not WebhookDelivery.objects.exists()


def test_replay_since_refuses_too_many_events_in_the_dialog(ops, history, monkeypatch):
    monkeypatch.setattr(replay, "REPLAY_LIMIT", 2)
    sub = subscribe()
    response = ops.post(
        detail_action_url("replay_since_detail", sub),
        {"since": history["cut"].isoformat(), "_form_submitted": "True"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "More than 2 events: choose a later start." in response.content.decode()
    assert not WebhookDelivery.objects.exists()


def test_replay_since_refuses_an_inactive_subscription(ops, history):
    sub = subscribe()
    deactivate(sub, "The endpoint answered 410 Gone.")
    response = ops.post(
        detail_action_url("replay_since_detail", sub),
        {"since": history["cut"].isoformat(), "_form_submitted": "True"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse(
        "admin:integrations_webhooksubscription_change", args=[sub.pk]
    )
    assert messages_of(response) == [
        ("error", "erp: Activate the subscription before replaying to it.")
    ]
    assert not WebhookDelivery.objects.exists()


def test_replay_dialogs_of_an_unknown_subscription_are_404(ops):
    for action in ("replay_since_detail", "replay_order_detail"):
        url = reverse(f"admin:integrations_webhooksubscription_{action}", args=[987654])
        data = {"since": "2026-01-01 00:00", "order_number": "OMS-X", "_form_submitted": "True"}
        assert ops.post(url, data).status_code == 404


@pytest.mark.parametrize("action", ["replay_since_detail", "replay_order_detail"])
def test_replay_dialogs_need_change_permission(customer_service, viewer, history, action):
    sub = subscribe()
    url = detail_action_url(action, sub)
    data = {
        "since": history["cut"].isoformat(),
        "order_number": history["web_order"].number,
        "_form_submitted": "True",
    }
    for client in (customer_service, viewer):
        assert client.get(url, headers=HTMX).status_code == 403
        assert client.post(url, data, headers=HTMX).status_code == 403
    assert not WebhookDelivery.objects.exists()
    # the viewer may open the subscription but is not offered the dialogs
    page = viewer.get(reverse("admin:integrations_webhooksubscription_change", args=[sub.pk]))
    assert page.status_code == 200
    assert url not in page.content.decode()


# --- Replay one order's stream (dialog) -------------------------------------------------------


def test_replay_order_dialog_renders(ops):
    sub = subscribe()
    response = ops.get(detail_action_url("replay_order_detail", sub), headers=HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Replay one order&#x27;s events" in html
    assert 'name="order_number"' in html


def test_replay_order_replays_only_that_orders_matching_events(ops, history):
    sub = subscribe(event_types=["order.*", "fulfillment.*"])
    web_order = history["web_order"]

    response = ops.post(
        detail_action_url("replay_order_detail", sub),
        {"order_number": f"  {web_order.number.lower()} ", "_form_submitted": "True"},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert "reason__exact=replay" in response["HX-Redirect"]
    assert messages_of(response) == [("success", "erp: replay queued, 2 new deliveries.")]
    replays = replay_deliveries(sub)
    assert [d.event_id for d in replays] == [history["web_created"].pk, history["shipped"].pk]
    assert {d.event.stream for d in replays} == {web_order.stream}


def test_replay_order_respects_the_event_types(ops, history):
    sub = subscribe(event_types=["fulfillment.*"])
    ops.post(
        detail_action_url("replay_order_detail", sub),
        {"order_number": history["web_order"].number, "_form_submitted": "True"},
    )
    assert [d.event_id for d in replay_deliveries(sub)] == [history["shipped"].pk]


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("", "This field is required."),
        ("OMS-NOPE-NOPE", "No order &#x27;OMS-NOPE-NOPE&#x27;."),
        ("X" * 21, "Ensure this value has at most 20 characters"),
    ],
)
def test_replay_order_bad_numbers_re_render_the_dialog(ops, history, typed, error):
    sub = subscribe()
    response = ops.post(
        detail_action_url("replay_order_detail", sub),
        {"order_number": typed, "_form_submitted": "True"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "HX-Redirect" not in response
    html = response.content.decode()
    assert 'id="dialog-form"' in html
    assert error in html
    assert not WebhookDelivery.objects.exists()


def test_replay_order_refuses_an_order_of_another_channel(ops, history):
    sub = subscribe(channel_code="web")
    pos_order = history["pos_order"]
    response = ops.post(
        detail_action_url("replay_order_detail", sub),
        {"order_number": pos_order.number, "_form_submitted": "True"},
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f"Order {pos_order.number} is a pos order" in html
    assert not WebhookDelivery.objects.exists()


def test_replay_order_refuses_an_inactive_subscription(ops, history):
    sub = subscribe()
    deactivate(sub)
    response = ops.post(
        detail_action_url("replay_order_detail", sub),
        {"order_number": history["web_order"].number, "_form_submitted": "True"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:integrations_webhooksubscription_change", args=[sub.pk]
    )
    assert messages_of(response) == [
        ("error", "erp: Activate the subscription before replaying to it.")
    ]
    assert not WebhookDelivery.objects.exists()


# --- deleting a subscription in the admin goes through the service ----------------------------


def test_admin_delete_goes_through_the_service(ops, monkeypatch):
    sub = subscribe()
    called = []
    from webhooks import admin as webhook_admin

    real = webhook_admin.delete_subscription
    monkeypatch.setattr(
        webhook_admin, "delete_subscription", lambda pk: (called.append(pk), real(pk))
    )
    response = ops.post(
        reverse("admin:integrations_webhooksubscription_delete", args=[sub.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert called == [sub.pk]
    assert not WebhookSubscription.objects.exists()


def test_a_subscription_with_deliveries_is_deactivated_not_deleted_in_the_admin(ops):
    sub = subscribe()
    event("order:D-1")
    relay_events()
    delete = reverse("admin:integrations_webhooksubscription_delete", args=[sub.pk])
    page = ops.get(delete)
    assert page.status_code == 200
    assert "webhook delivery" in page.content.decode().lower()  # named as what blocks it
    assert ops.post(delete, {"post": "yes"}).status_code == 403
    assert WebhookSubscription.objects.filter(pk=sub.pk).exists()
    assert WebhookDelivery.objects.filter(subscription=sub).count() == 1
