"""The Celery app and its global task defaults.

At-least-once delivery: late acks plus reject-on-worker-lost mean a task whose worker dies is
delivered again, so every task must be idempotent (it re-reads state and does nothing when the
work is already done). Prefetch 1 keeps a killed worker from taking a batch of messages with it.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")

app = Celery("oms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
    # Keep Django's LOGGING (JSON lines with correlation ids) in workers too.
    worker_hijack_root_logger=False,
    # Redis redelivers an unacked message after this; it must exceed the longest task.
    broker_transport_options={"visibility_timeout": 3600},
    beat_schedule={
        # The broker may lose a message, the database never does: every minute, re-send
        # orchestration, releases, backorder allocation, pickup expiry and payment capture
        # that are due but not done (each idempotent; grace periods in the sweeper module).
        "sweep-due-work": {
            "task": "fulfillment.tasks.sweep_due_work_task",
            "schedule": 60.0,
        },
        # Warehouses drop 945 files at any time; a one-minute scan keeps ship confirmations timely.
        "import-x12-inbox": {
            "task": "fulfillment.tasks.import_x12_inbox_task",
            "schedule": 60.0,
            "options": {"expires": 55.0},
        },
        # Idempotency keys are promised for 7 days; deleting expired ones hourly keeps the table
        # at about one week of write traffic.
        "purge-expired-idempotency-keys": {
            "task": "oms.api.tasks.purge_expired_idempotency_keys_task",
            "schedule": 3600.0,
        },
        # Failed inbound messages nobody will resend (945s from files) are retried with backoff
        # (1 min, then x4), then dead with an exception case (docs/inbound.md).
        "retry-inbound-messages": {
            "task": "integrations.tasks.retry_inbound_messages_task",
            "schedule": 60.0,
            "options": {"expires": 55.0},
        },
        # Exception detectors (stuck orders, late fulfillments, aged backorders, stale feeds):
        # thresholds are minutes to days, so every 5 minutes is timely; idempotent per subject.
        "detect-exceptions": {
            "task": "ops.tasks.detect_exceptions_task",
            "schedule": 300.0,
            "options": {"expires": 290.0},
        },
        # Returns (returns/tasks.py): charge advance exchanges whose return is overdue (due dates
        # are days away, so hourly is timely), refund inspected returns whose task was lost.
        "sweep-returns": {
            "task": "returns.tasks.sweep_returns_task",
            "schedule": 3600.0,
            "options": {"expires": 3500.0},
        },
        # Webhooks out (docs/webhooks.md): fan new events out to deliveries every few seconds,
        # and send due deliveries (retries, lost messages, senders that died).
        "relay-webhook-events": {
            "task": "webhooks.tasks.relay_events_task",
            "schedule": 5.0,
            "options": {"expires": 5.0},
        },
        "send-due-webhook-deliveries": {
            "task": "webhooks.tasks.send_due_deliveries_task",
            "schedule": 15.0,
            "options": {"expires": 15.0},
        },
    },
)
app.autodiscover_tasks()
