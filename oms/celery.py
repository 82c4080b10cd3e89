"""The Celery app and its global task defaults.

At-least-once delivery: late acks plus reject-on-worker-lost mean a task whose worker dies is
delivered again, so every task must be idempotent (it re-reads state and does nothing when the
work is already done). Prefetch 1 keeps a killed worker from taking a batch of messages with it.
An ack Redis does not take (paused, partitioned) still frees its process's prefetch slot
(oms/core/broker.py, QoS): otherwise a worker whose every process acked during the outage would
never read the queue again.
"""

import os

from celery import Celery, Task

from oms.core.transactions import DATABASE_ERRORS

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")


class OmsTask(Task):
    """Every task's base. A task that loses its database (a restart, a failover, a connection
    dropped mid-query) is retried with backoff instead of failing: a failed task is acked and
    gone, and its work would wait for the sweeper. 1, 2, 4, 8, 16, then every 30 s (with
    jitter) for 12 tries: a database down for up to about 4 minutes loses no task. Tasks that
    set their own `autoretry_for` list these errors too (fulfillment/tasks.py).
    Every task is idempotent, so a retry after a commit whose answer was lost is harmless."""

    autoretry_for = DATABASE_ERRORS
    retry_backoff = 1
    retry_backoff_max = 30
    retry_jitter = True
    max_retries = 12


app = Celery("oms", task_cls=OmsTask)
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
    # A worker that loses the broker keeps reconnecting (never gives up and exits).
    broker_connection_max_retries=None,
    # Publishing (gunicorn's on-commit sends, beat) against a broker that is down or paused:
    # three tries (the second reconnects a pooled connection that a Redis restart killed), then
    # the caller decides (enqueue_on_commit logs it and the sweeper sends it again), rather than
    # hanging a web request for as long as Redis does not answer. Each try waits up to the
    # socket timeouts below; against a paused Redis some requests still took over 15 s in
    # tests/chaos (connect, then commands, each timing out), but every one ended.
    task_publish_retry_policy={
        "max_retries": 2,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.5,
    },
    # Keep Django's LOGGING (JSON lines with correlation ids) in workers too.
    worker_hijack_root_logger=False,
    # Celery's Django fix-up closes every database connection before and after each task
    # unless told to reuse them: each task then opened a PostgreSQL session of its own (a
    # backend started, authenticated, its caches cold) and no prepared statement (ADR 0022)
    # outlived one task. Connections now live as in a web request: Django's
    # close_old_connections() before and after each task (DB_CONN_MAX_AGE, the health check,
    # a connection an error left unusable; oms/core/task_context.py). The fix-up's own close
    # still runs every 1,000 tasks (ADR 0023).
    CELERY_DB_REUSE_MAX=1000,
    # Redis redelivers an unacked message after this; it must exceed the longest task.
    # Socket timeouts: a paused or unreachable Redis (SIGSTOP, a network partition) accepts
    # the TCP connection and then never answers; without them a publish waits forever.
    broker_transport_options={
        "visibility_timeout": 3600,
        "socket_timeout": 3,  # above the worker's 1 s BRPOP poll
        "socket_connect_timeout": 3,
    },
    beat_schedule={
        # The broker may lose a message, the database never does: every 10 s, re-send
        # orchestration, releases, backorder allocation, pickup expiry and payment capture
        # that are due but not done (each idempotent; grace periods in the sweeper module).
        # 10 s + the 15 s grace: an order whose message was lost waits at most 25 s (ADR 0009).
        "sweep-due-work": {
            "task": "fulfillment.tasks.sweep_due_work_task",
            "schedule": 10.0,
            "options": {"expires": 10.0},
        },
        # The order search's trigram indexes take new rows into a pending list; merging it in
        # a batch every 5 s costs a fraction of writing each row into them, and the list stays
        # far below the size at which an insert would merge it inline (ADR 0028).
        "flush-search-indexes": {
            "task": "ops.tasks.flush_search_indexes_task",
            "schedule": 5.0,
            "options": {"expires": 5.0},
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
        # KPI daily rollups (ops/kpis/rollups.py, ADR 0015): the past days the events of the
        # last runs changed, and any recent day not computed yet. The dashboard computes today
        # from the orders, so a past day is at most this late after an old order changes.
        "refresh-kpi-rollups": {
            "task": "ops.tasks.refresh_kpi_rollups_task",
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
        # Calls back to sales platforms (docs/channels.md): retries and calls whose task was lost.
        "send-due-channel-calls": {
            "task": "channels.tasks.send_due_calls_task",
            "schedule": 15.0,
            "options": {"expires": 15.0},
        },
        # Orders handed to the legacy system during a cutover (docs/migration.md): retries
        # (backoff 1 min × 4^n) and handoffs whose task was lost.
        "send-due-legacy-handoffs": {
            "task": "migration.tasks.send_due_handoffs_task",
            "schedule": 60.0,
            "options": {"expires": 55.0},
        },
        # Cutover go/no-go (docs/migration.md): each channel mid-cutover against the thresholds
        # of the active exception rule set; the detectors' cadence.
        "check-cutover-thresholds": {
            "task": "migration.tasks.check_cutover_thresholds_task",
            "schedule": 300.0,
            "options": {"expires": 290.0},
        },
        # Invoices and credit memos to the ERP (docs/finance.md): retries and lost tasks.
        "send-due-erp-documents": {
            "task": "erp.tasks.send_due_documents_task",
            "schedule": 15.0,
            "options": {"expires": 15.0},
        },
        # Platforms that do not push orders (Amazon SP-API): what changed since the cursor. Two
        # minutes keeps within SP-API's getOrders rate (0.0167 requests/s, burst 20).
        "poll-channels": {
            "task": "channels.tasks.poll_channels_task",
            "schedule": 120.0,
            "options": {"expires": 115.0},
        },
        # Inventory reconciliation (docs/migration.md): oms's stock against every active
        # reconciliation source's node counts; counts arrive hourly at most, so hourly is timely.
        "reconcile-inventory": {
            "task": "migration.tasks.reconcile_inventory_task",
            "schedule": 3600.0,
            "options": {"expires": 3500.0},
        },
        # B2B partners drop 850 files in their inbox folder at any time (channels/services/
        # edi.py); a one-minute scan, like the warehouses' 945 inbox.
        "import-edi-inboxes": {
            "task": "channels.tasks.import_edi_inboxes_task",
            "schedule": 60.0,
            "options": {"expires": 55.0},
        },
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
