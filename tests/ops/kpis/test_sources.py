"""The exception, webhook and outbox figures read ops.ExceptionCase, integrations.WebhookDelivery
and integrations.EventDispatch directly."""

from datetime import UTC, datetime, timedelta

import pytest

from integrations.models import EventDispatch, WebhookDelivery, WebhookSubscription
from oms.events.models import Event
from ops.kpis import selectors, sources
from ops.models import ExceptionCase, Queue

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
START, END = NOW.date() - timedelta(days=6), NOW.date()  # the range: Mar 4-10


def _case(queue: Queue, n: int, *, status: str, due: timedelta, raised: timedelta, **extra):
    return ExceptionCase.objects.create(
        kind="payment_failed",
        subject_type="order",
        subject_id=n,
        subject_label=f"OMS-{n}",
        summary="payment failed",
        queue=queue,
        status=status,
        sla_due_at=NOW + due,
        raised_at=NOW - raised,
        last_seen_at=NOW - raised,
        **extra,
    )


def test_open_cases_by_queue_and_sla_state_and_resolution_hours():
    payments = Queue.objects.create(code="payments", name="Payments")
    warehouse = Queue.objects.create(code="warehouse", name="Warehouse")
    _case(payments, 1, status="open", due=-timedelta(minutes=5), raised=timedelta(hours=1))
    _case(payments, 2, status="in_progress", due=timedelta(hours=1), raised=timedelta(hours=1))
    _case(warehouse, 3, status="open", due=timedelta(hours=2), raised=timedelta(hours=1))
    for n, (raised, resolved) in enumerate([(10, 8), (30, 24), (100, 99)], start=10):
        # resolved 8 h, 24 h and 99 h ago, all in range: 2 h, 6 h and 1 h to resolve
        _case(
            payments,
            n,
            status="resolved",
            due=timedelta(0),
            raised=timedelta(hours=raised),
            resolved_at=NOW - timedelta(hours=resolved),
        )
    _case(  # resolved before the range
        payments,
        20,
        status="resolved",
        due=timedelta(0),
        raised=timedelta(days=30),
        resolved_at=NOW - timedelta(days=20),
    )
    _case(  # dismissed in range: not a resolution
        payments,
        21,
        status="dismissed",
        due=timedelta(0),
        raised=timedelta(hours=5),
        resolved_at=NOW - timedelta(hours=1),
    )

    assert sources.open_exception_counts(NOW) == {
        ("Payments", "breached"): 1,
        ("Payments", "within"): 1,
        ("Warehouse", "within"): 1,
    }
    figures = selectors.exception_figures(START, END, NOW)
    assert figures["queues"] == {
        "Payments": {"breached": 1, "within": 1},
        "Warehouse": {"breached": 0, "within": 1},
    }
    assert (figures["open_total"], figures["breached_total"], figures["resolved"]) == (3, 1, 3)
    assert figures["resolution_p50_hours"] == pytest.approx(2.0)  # of 1, 2 and 6 hours
    assert figures["resolution_p90_hours"] == pytest.approx(5.2)


def test_webhook_success_rate_queue_depth_and_outbox_backlog():
    events = [
        Event.objects.create(
            stream="test:kpi", seq=n, type="test.event", actor_kind="system", occurred_at=NOW
        )
        for n in range(1, 10)
    ]
    subscription = WebhookSubscription.objects.create(
        name="t", url="https://example.com/hook", event_types=["*"]
    )
    in_range, before = NOW - timedelta(days=1), NOW - timedelta(days=30)
    for event, (status, created) in zip(
        events,
        [
            ("delivered", in_range),
            ("delivered", in_range),
            ("delivered", in_range),
            ("dead", in_range),
            ("cancelled", in_range),
            ("pending", in_range),
            ("pending", before),
            ("dead", before),
        ],
        strict=False,
    ):
        WebhookDelivery.objects.create(
            subscription=subscription, event=event, status=status, created_at=created
        )
    EventDispatch.objects.create(event=events[0], dispatched_at=NOW - timedelta(hours=2))
    EventDispatch.objects.create(event=events[5], dispatched_at=NOW - timedelta(minutes=5))

    summary = selectors.webhook_figures(START, END)

    assert summary == {"ok": 3, "failed": 1, "success_rate": 75.0, "queue_depth": 2}
    assert sources.webhook_deliveries_by_status() == {
        "delivered": 3,
        "dead": 2,
        "cancelled": 1,
        "pending": 2,
    }
    # above the floor (events[0], dispatched over an hour ago): 8 events, one dispatched
    assert sources.outbox_backlog(NOW) == 7
