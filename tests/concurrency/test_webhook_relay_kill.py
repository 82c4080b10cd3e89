"""1,000 events reach a local receiver, every one signed, none missing, although the worker
relaying and sending them is killed with SIGKILL mid-run and a new one takes over.

Real PostgreSQL, real Redis, real `celery worker` subprocesses (tests/celery_worker.py). Beat
does not run in tests: the test itself enqueues the relay and the due-sweeper every second, as
beat would every few seconds. The send lease is 3 s here (60 s in production), so a delivery
whose sender was killed mid-request is picked up again quickly.
"""

import json
import os
import signal
import time
import uuid

import pytest
from django.db import transaction
from standardwebhooks import Webhook

from integrations.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from oms.core.actors import Actor
from oms.events.models import Event
from oms.events.services import record_event
from tests.celery_worker import WorkerProcess, running_worker, wait_until
from tests.webhooks.test_webhooks_sending import running_receiver
from webhooks.tasks import relay_events_task, send_due_deliveries_task

pytestmark = pytest.mark.django_db(transaction=True)

N = 1000
WORKER_ENV = {
    "OMS_WEBHOOKS_ALLOW_HTTP": "1",
    "OMS_WEBHOOKS_ALLOW_PRIVATE": "1",
    "OMS_WEBHOOKS_SEND_LEASE_SECONDS": "3",
}


def _record_events() -> set[str]:
    run = uuid.uuid4().hex[:6]
    actor = Actor.system("kill test")
    with transaction.atomic():
        events = [
            record_event(
                stream=f"order:K{run}-{i}",
                type="order.created",
                actor=actor,
                payload={"i": i},
                first_in_stream=True,
            )
            for i in range(N)
        ]
    return {str(e.event_id) for e in events}


def _distinct(receiver) -> set[str]:
    return {headers["webhook-id"] for headers, _ in list(receiver.received)}


def test_every_event_arrives_signed_despite_a_killed_worker():
    started = time.monotonic()
    with running_receiver() as receiver:
        sub = WebhookSubscription.objects.create(
            name="kill test", url=receiver.url, event_types=["order.*"]
        )
        expected = _record_events()
        t_events = round(time.monotonic() - started, 1)
        with running_worker(WORKER_ENV) as first:
            relay_events_task.delay(batch=100)
            wait_until(lambda: receiver.count() >= 300, timeout=30, what="300 deliveries")
            os.kill(first._proc.pid, signal.SIGKILL)
            first._proc.wait(timeout=10)
            at_kill = len(_distinct(receiver))
            t_kill = round(time.monotonic() - started, 1)
            assert at_kill < N, "the worker finished before it was killed: kill earlier"

            second = WorkerProcess(first.queue, WORKER_ENV)
            second.start()
            try:
                deadline = time.monotonic() + 40
                while len(_distinct(receiver)) < N and time.monotonic() < deadline:
                    relay_events_task.delay(batch=100)
                    send_due_deliveries_task.delay()
                    time.sleep(1.0)
            finally:
                second.stop()

        received = list(receiver.received)

    # every request is signed with the subscription's secret
    verifier = Webhook(sub.secret)
    bodies = {}
    for headers, body in received:
        bodies[headers["webhook-id"]] = verifier.verify(body, headers)
    # after dedupe by webhook-id: exactly N distinct deliveries, one per event, none missing
    assert len(bodies) == N
    assert {data["id"] for data in bodies.values()} == expected
    assert WebhookDelivery.objects.filter(subscription=sub).count() == N
    assert set(
        WebhookDelivery.objects.filter(subscription=sub).values_list("status", flat=True)
    ) == {DeliveryStatus.DELIVERED}
    assert Event.objects.count() >= N
    print(  # noqa: T201 - the figures for the closing note (-s shows them)
        json.dumps(
            {
                "events": N,
                "received_at_kill": at_kill,
                "requests": len(received),
                "duplicates": len(received) - len(bodies),
                "seconds": round(time.monotonic() - started, 1),
                "killed_at_seconds": t_kill,
                "events_recorded_at_seconds": t_events,
            }
        )
    )
