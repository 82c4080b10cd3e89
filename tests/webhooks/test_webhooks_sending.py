"""Sending: signature, retries with backoff, dead, 410, 429 Retry-After, truncation."""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook

from integrations.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from oms.core.actors import Actor
from oms.events.models import Event
from oms.events.services import record_event
from webhooks import sending
from webhooks.relay import relay_events

# --- a local receiver (also used by tests/concurrency/test_webhook_relay_kill.py) -----------

Reply = tuple[int, dict[str, str], bytes]


class Receiver:
    """An HTTP server on 127.0.0.1 recording every POST; `reply(n)` decides the answer."""

    def __init__(self, reply: Callable[[int], Reply] | None = None) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.reply = reply or (lambda n: (200, {}, b"ok"))
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True  # no 40 ms delayed-ACK stall per request

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    receiver.received.append(
                        ({k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    n = len(receiver.received)
                status, headers, reply_body = receiver.reply(n)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(reply_body)))
                self.end_headers()
                self.wfile.write(reply_body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/oms"

    def count(self) -> int:
        with self._lock:
            return len(self.received)


@contextmanager
def running_receiver(reply: Callable[[int], Reply] | None = None) -> Iterator[Receiver]:
    receiver = Receiver(reply)
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def local(settings):
    settings.OMS_WEBHOOKS_ALLOW_HTTP = True
    settings.OMS_WEBHOOKS_ALLOW_PRIVATE = True


def make_event(stream: str = "order:T-1", type_: str = "order.created") -> Event:
    with transaction.atomic():
        return record_event(stream=stream, type=type_, actor=Actor.system("test"), payload={"n": 1})


def delivery_to(url: str, event: Event | None = None) -> WebhookDelivery:
    sub = WebhookSubscription.objects.create(name="t", url=url, event_types=["*"])
    event = event or make_event()
    relay_events()
    return WebhookDelivery.objects.get(subscription=sub, event=event)


def make_due(delivery: WebhookDelivery) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


# --- tests ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_delivery_is_signed_per_standard_webhooks_and_carries_the_event(local):
    with running_receiver() as receiver:
        delivery = delivery_to(receiver.url)
        assert sending.send_delivery(delivery.pk) == DeliveryStatus.DELIVERED
    headers, body = receiver.received[0]
    secret = delivery.subscription.secret
    assert secret.startswith("whsec_")
    data = Webhook(secret).verify(body, headers)
    event = delivery.event
    assert headers["webhook-id"] == delivery.webhook_id
    assert data == {
        "id": str(event.event_id),
        "type": "order.created",
        "schema_version": event.schema_version,
        "occurred_at": event.occurred_at.isoformat(),
        "stream": "order:T-1",
        "seq": 1,
        "payload": {"n": 1},
    }
    delivery.refresh_from_db()
    assert delivery.attempts == 1
    assert delivery.next_attempt_at is None
    assert delivery.tries.get().status_code == 200
    # done: a second task for the same delivery does nothing
    assert sending.send_delivery(delivery.pk) is None


@pytest.mark.django_db
def test_failures_retry_with_growing_backoff_then_dead(local, settings):
    settings.OMS_WEBHOOKS_MAX_ATTEMPTS = 4
    with running_receiver(lambda n: (500, {}, b"x" * 5000)) as receiver:
        delivery = delivery_to(receiver.url)
        delays = []
        for _ in range(3):
            before = timezone.now()
            assert sending.send_delivery(delivery.pk) == DeliveryStatus.PENDING
            delivery.refresh_from_db()
            delays.append((delivery.next_attempt_at - before).total_seconds())
            assert sending.send_delivery(delivery.pk) is None  # not due yet
            make_due(delivery)
        assert sending.send_delivery(delivery.pk) == DeliveryStatus.DEAD
    assert 24 <= delays[0] <= 36
    assert 48 <= delays[1] <= 72
    assert 96 <= delays[2] <= 144
    delivery.refresh_from_db()
    assert delivery.attempts == 4
    assert delivery.last_status_code == 500
    assert delivery.next_attempt_at is None
    tries = list(delivery.tries.all())
    assert len(tries) == 4
    assert all(len(t.response_body) == 1024 for t in tries)


def test_backoff_is_capped_at_six_hours_and_spans_about_three_days():
    assert sending.backoff(30) <= 6 * 3600 * 1.2
    total = sum(sending.backoff(n) for n in range(1, 20))
    assert timedelta(days=2) < timedelta(seconds=total) < timedelta(days=3.5)


@pytest.mark.django_db
def test_timeouts_and_refused_connections_are_retried(local):
    delivery = delivery_to("http://127.0.0.1:9/nothing-listens")
    assert sending.send_delivery(delivery.pk) == DeliveryStatus.PENDING
    delivery.refresh_from_db()
    assert delivery.last_error
    assert delivery.tries.get().status_code is None


@pytest.mark.django_db
def test_410_gone_disables_the_subscription(local):
    with running_receiver(lambda n: (410, {}, b"gone")) as receiver:
        delivery = delivery_to(receiver.url)
        other = WebhookDelivery.objects.create(
            subscription=delivery.subscription,
            event=make_event("order:T-2"),
            created_at=timezone.now(),
            next_attempt_at=timezone.now(),
        )
        assert sending.send_delivery(delivery.pk) == DeliveryStatus.CANCELLED
        sub = WebhookSubscription.objects.get(pk=delivery.subscription_id)
        assert not sub.is_active
        assert "410" in sub.disabled_reason
        # the subscription's other pending deliveries are not sent
        assert sending.send_delivery(other.pk) is None
        assert receiver.count() == 1
    other.refresh_from_db()
    assert other.status == DeliveryStatus.CANCELLED


@pytest.mark.django_db
def test_429_retry_after_is_honoured(local):
    with running_receiver(lambda n: (429, {"Retry-After": "900"}, b"slow down")) as receiver:
        delivery = delivery_to(receiver.url)
        before = timezone.now()
        assert sending.send_delivery(delivery.pk) == DeliveryStatus.PENDING
    delivery.refresh_from_db()
    wait = (delivery.next_attempt_at - before).total_seconds()
    assert 899 <= wait <= 905
    assert delivery.last_status_code == 429


@pytest.mark.django_db
def test_a_url_that_became_private_is_refused_at_send_time(local, settings):
    with running_receiver() as receiver:
        delivery = delivery_to(receiver.url)
        settings.OMS_WEBHOOKS_ALLOW_PRIVATE = False
        assert sending.send_delivery(delivery.pk) == DeliveryStatus.DEAD
        assert receiver.count() == 0
    delivery.refresh_from_db()
    assert "loopback" in delivery.tries.get().error


@pytest.mark.django_db
def test_a_delivery_whose_sender_died_is_sent_again_after_the_lease(local, settings):
    settings.OMS_WEBHOOKS_SEND_LEASE_SECONDS = 30
    with running_receiver() as receiver:
        delivery = delivery_to(receiver.url)
        assert sending.claim(delivery.pk) is not None  # ...and the worker is killed
        assert sending.send_due_deliveries()["tried"] == 0  # leased
        make_due(delivery)
        assert sending.send_due_deliveries() == {"tried": 1, "delivered": 1}
        assert receiver.count() == 1
