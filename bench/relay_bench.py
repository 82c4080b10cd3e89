"""Outbox relay throughput: events dispatched per second by 1 and by 2 relays at once
(webhooks/relay.py, SKIP LOCKED), and whether any delivery was created twice.

On the bench database (bench/run.sh): it writes --events fresh `bench.relay` events and one
active subscription to every event type (rows written directly: bench code, no URL check, no
secret shown to anyone), then for each relay count marks every other event dispatched (so only
the fresh ones are due), runs that many relay processes (`relay_events(batch=...)` in a loop
until nothing is left) and times them. Deliveries are created, not sent: the send tasks go to the
bench's Redis db, flushed at the end of the run. Prints one line per relay count; writes JSON to
--json-out. Exit status 1 when a (subscription, event) pair has more than one delivery.
"""

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
    import django

    django.setup()


def relay_worker(batch: int, barrier: Any, out: Any) -> None:
    setup_django()
    from webhooks.relay import relay_events

    barrier.wait(timeout=120)
    events = 0
    while True:
        done = relay_events(batch=batch)["events"]
        events += done
        if not done:
            break
    out.put(events)


def run(relays: int, batch: int) -> tuple[float, int]:
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(relays + 1)
    out = ctx.Queue()
    procs = [ctx.Process(target=relay_worker, args=(batch, barrier, out)) for _ in range(relays)]
    for p in procs:
        p.start()
    barrier.wait(timeout=120)
    started = time.perf_counter()
    counts = [out.get(timeout=600) for _ in procs]
    elapsed = time.perf_counter() - started
    for p in procs:
        p.join()
    return elapsed, sum(counts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--relays", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    setup_django()

    from django.db import connection, transaction
    from django.db.models import Count
    from django.utils import timezone

    from integrations.models import EventDispatch, WebhookDelivery, WebhookSubscription
    from oms.events.models import Event

    now = timezone.now()
    with transaction.atomic():
        sub = WebhookSubscription.objects.create(
            name="bench relay", url="https://relay.bench.invalid/", event_types=["*"]
        )
        fresh = Event.objects.bulk_create(
            [
                Event(
                    stream=f"bench-relay:{i}",
                    seq=1,
                    type="bench.relay",
                    actor_kind="system",
                    actor_id="bench",
                    actor_label="bench",
                    occurred_at=now,
                    payload={"i": i},
                )
                for i in range(args.events)
            ],
            batch_size=2000,
        )
    fresh_ids = [e.pk for e in fresh]
    results = []
    duplicates_total = 0
    for relays in args.relays:
        with transaction.atomic():
            WebhookDelivery.objects.filter(event_id__in=fresh_ids).delete()
            EventDispatch.objects.filter(event_id__in=fresh_ids).delete()
            with connection.cursor() as cur:  # everything else is dispatched already
                cur.execute(
                    """
                    INSERT INTO integrations_eventdispatch (event_id, dispatched_at, deliveries)
                    SELECT e.id, now(), 0 FROM events_event e
                     WHERE NOT (e.id = ANY(%s))
                    ON CONFLICT (event_id) DO NOTHING
                    """,
                    [fresh_ids],
                )
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE integrations_eventdispatch")
        connection.close()
        elapsed, dispatched = run(relays, args.batch)
        duplicates = (
            WebhookDelivery.objects.filter(event_id__in=fresh_ids)
            .values("subscription_id", "event_id")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .count()
        )
        deliveries = WebhookDelivery.objects.filter(event_id__in=fresh_ids).count()
        duplicates_total += duplicates
        rate = dispatched / elapsed if elapsed else 0.0
        results.append(
            {
                "relays": relays,
                "events": dispatched,
                "seconds": round(elapsed, 2),
                "events_per_s": round(rate, 1),
                "deliveries": deliveries,
                "duplicates": duplicates,
            }
        )
        print(
            f"  outbox relay x{relays}: {dispatched} events in {elapsed:.1f} s = {rate:.0f} "
            f"events/s, {deliveries} deliveries, {duplicates} duplicated"
        )
    with transaction.atomic():
        WebhookDelivery.objects.filter(event_id__in=fresh_ids).delete()
        sub.delete()
    if args.json_out:
        args.json_out.write_text(json.dumps(results))
    return 1 if duplicates_total else 0


if __name__ == "__main__":
    sys.exit(main())
