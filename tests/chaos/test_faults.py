"""Faults of the database, the broker and the relay lose nothing (issue 13, part 7).

Each test runs the production shape on servers of its own (tests/chaos/conftest.py): its own
PostgreSQL and Redis on free ports, gunicorn with one worker, a Celery worker (concurrency 2)
and Celery beat. A storefront posts 200 one-line orders (120 for the faults after the first, to
keep CI short) from 4 threads, each retried under its one Idempotency-Key until it gets its 201
(tests/chaos/load.py); stock is short on purpose (85 % of the units ordered), so routing must
backorder exactly the orders it cannot serve. Once 50 orders are in, the fault:

1. PostgreSQL is shut down hard (`pg_ctl stop -m immediate`, a crash) and started again;
2. Redis is killed (`kill -9`, no persistence: every queued task is lost) and started again;
3. Redis, the broker, is paused for 30 s (SIGSTOP ... SIGCONT): connections hang, not fail;
4. the Celery worker relaying and sending webhooks is killed with `kill -9` (its whole process
   group) mid-delivery, and a new one is started.

Each ends when every order is in its expected state and every event reached the receiver, and
asserts: every order the client was told about exists once with the number it was given (0
lost, 0 duplicated), exactly min(ordered, stock) orders per SKU released and the rest
backordered (0 oversold), every stock level's counters equal to its ledger sums and its
reserved counter equal to its active reservations, and every order event delivered as a
signed webhook (at least once; counted once per webhook-id). It prints its figures (run with -s) and
its time to recovery: from the end of the fault to the first order accepted after it, and to
the moment everything above holds.
"""

import json
import time

import pytest

from tests.chaos.harness import wait_until
from tests.chaos.load import OrderLoad
from tests.chaos.world import SKUS, stock_for

pytestmark = pytest.mark.chaos

N = 200  # the PostgreSQL restart (issue 13); the other faults post N_SHORT to keep CI short
N_SHORT = 120
BEFORE_FAULT = 50  # orders accepted before the fault strikes
SETTLE_TIMEOUT = 150  # seconds after the fault for everything to be in order
# A claimed webhook delivery whose sender died is sent again after this lease (60 s in
# production; the longest send is 13 s: 3 s connect + 10 s read).
LEASE_SECONDS = "20"


def _expected(load: OrderLoad) -> dict[str, int]:
    units: dict[str, int] = {}
    for (_node, sku), n in stock_for(load.n).items():
        units[sku] = units.get(sku, 0) + n
    released = sum(min(n, units[sku]) for sku, n in load.ordered_per_sku().items())
    return {"released": released, "backordered": load.n - released}


def _settle(stack, load: OrderLoad, since: float) -> tuple[dict, float]:
    """Wait until every order is released or backordered, every event was received and every
    delivery is marked delivered (a sender killed after the receiver answered leaves its row
    claimed until the lease runs out and it is sent again)."""
    last: dict = {}

    def converged() -> bool:
        nonlocal last
        last = stack.report()
        if "error" in last:
            return False
        orders = last["orders"]
        if len(orders) < load.n or any(
            s not in ("released", "backordered") for s in orders.values()
        ):
            return False
        if not set(last["events"]) <= stack.receiver.event_ids:
            return False
        return set(last["deliveries"]) <= {"delivered"}

    try:
        wait_until(converged, SETTLE_TIMEOUT, "orders settled and webhooks delivered", step=1.0)
    except AssertionError:
        pending = dict(last.get("status_counts", {}).items())
        missing = len(set(last.get("events", [])) - stack.receiver.event_ids)
        raise AssertionError(
            f"not settled after {SETTLE_TIMEOUT} s: statuses {pending}, "
            f"{missing} events not received, deliveries {last.get('deliveries')}, "
            f"{last.get('error', '')}\n{stack.logs()}"
        ) from None
    return last, time.monotonic() - since


def _check_and_print(
    name: str,
    stack,
    load: OrderLoad,
    report: dict,
    *,
    fault_start: float,
    fault_end: float,
    settled_s: float,
    extra: dict | None = None,
) -> dict:
    expected = _expected(load)
    ids = [load.external_id(i) for i in range(load.n)]
    lost = [e for e in ids if e not in report["orders"]]
    wrong_number = [e for e, number in load.numbers.items() if report["numbers"].get(number) != e]
    missing_webhooks = set(report["events"]) - stack.receiver.event_ids
    after = [t for t in load.succeeded_at.values() if t > fault_end]
    figures = {
        "fault": name,
        "orders": load.n,
        "accepted": len(load.numbers),
        "released": report["status_counts"].get("released", 0),
        "backordered": report["status_counts"].get("backordered", 0),
        "lost": len(lost),
        "duplicated": len(report["duplicate_external_ids"]) + len(report["over_reserved_lines"]),
        "oversold": len(report["oversold_levels"]),
        "ledger_mismatches": report["ledger_mismatches"],
        "attempts": load.attempts,
        "failed_attempts": dict(load.errors),
        "replayed_201": load.replayed,
        "fault_seconds": round(fault_end - fault_start, 1),
        "first_order_after_fault_s": round(min(after) - fault_end, 1) if after else None,
        "last_failed_attempt_after_fault_s": round(max(load.failed_attempts) - fault_end, 1)
        if load.failed_attempts
        else None,
        "time_to_recovery_s": round(settled_s, 1),
        "max_wait_to_route_s": report["max_wait_to_route_s"],
        "routed_by_sweeper": report["routed_by_sweeper"],
        "max_wait_routed_by_sweeper_s": report["max_wait_routed_by_sweeper_s"],
        "events": len(report["events"]),
        "webhook_requests": stack.receiver.requests,
        "webhook_duplicates": stack.receiver.requests - stack.receiver.distinct(),
        "webhooks_missing": len(missing_webhooks),
        "deliveries": report["deliveries"],
        **(extra or {}),
    }
    print(f"\n[chaos] {json.dumps(figures)}")  # noqa: T201 - the figures (-s shows them)

    assert load.refused == {}, f"orders refused: {load.refused}"
    assert lost == [], f"lost: {lost}"
    assert len(load.numbers) == load.n
    assert wrong_number == [], "a client was given a number that is not its order's"
    assert report["duplicate_external_ids"] == []
    assert len(report["orders"]) == load.n
    assert report["over_reserved_lines"] == [], "a line was reserved twice"
    assert report["status_counts"] == expected
    assert report["oversold_levels"] == []
    assert report["reserved_units"] == expected["released"]
    assert report["reservation_counter_mismatches"] == []
    assert report["ledger_mismatches"] == 0
    assert missing_webhooks == set()
    assert stack.receiver.bad_signatures == 0
    assert set(report["deliveries"]) == {"delivered"}
    return figures


def _load(stack, n: int) -> OrderLoad:
    load = OrderLoad(stack.base_url, stack.key, SKUS, n).start()
    wait_until(lambda: load.done() >= BEFORE_FAULT, 120, f"{BEFORE_FAULT} orders before the fault")
    return load


def test_postgres_restart_mid_load(stack):
    stack.start(N, OMS_WEBHOOKS_SEND_LEASE_SECONDS=LEASE_SECONDS)
    load = _load(stack, N)

    fault_start = time.monotonic()
    stack.pg.stop("immediate")  # a crash: every connection dies, recovery on start
    time.sleep(5)
    stack.pg.start()
    fault_end = time.monotonic()

    load.join(timeout=240)
    report, settled = _settle(stack, load, fault_end)
    _check_and_print(
        "postgres restart",
        stack,
        load,
        report,
        fault_start=fault_start,
        fault_end=fault_end,
        settled_s=settled,
    )


def test_redis_restart_mid_load(stack):
    stack.start(N_SHORT, OMS_WEBHOOKS_SEND_LEASE_SECONDS=LEASE_SECONDS)
    load = _load(stack, N_SHORT)

    fault_start = time.monotonic()
    stack.redis.kill()  # kill -9, no persistence: every queued message is gone
    time.sleep(3)
    stack.redis.start()  # the same port, empty
    fault_end = time.monotonic()

    load.join(timeout=240)
    report, settled = _settle(stack, load, fault_end)
    _check_and_print(
        "redis restart",
        stack,
        load,
        report,
        fault_start=fault_start,
        fault_end=fault_end,
        settled_s=settled,
    )


def test_broker_paused_for_30_seconds(stack):
    stack.start(N_SHORT, OMS_WEBHOOKS_SEND_LEASE_SECONDS=LEASE_SECONDS)
    load = _load(stack, N_SHORT)

    fault_start = time.monotonic()
    stack.redis.pause()  # SIGSTOP: connections are accepted by the kernel, nothing answers
    time.sleep(30)
    stack.redis.resume()
    fault_end = time.monotonic()

    load.join(timeout=240)
    report, settled = _settle(stack, load, fault_end)
    _check_and_print(
        "broker paused 30 s",
        stack,
        load,
        report,
        fault_start=fault_start,
        fault_end=fault_end,
        settled_s=settled,
    )


@pytest.mark.parametrize("stack", [{"receiver_delay": 0.03}], indirect=True)
def test_relay_killed_mid_delivery(stack):
    # A slow receiver (30 ms a request) keeps deliveries in flight when the kill comes.
    stack.start(N_SHORT, OMS_WEBHOOKS_SEND_LEASE_SECONDS=LEASE_SECONDS)
    load = _load(stack, N_SHORT)
    wait_until(lambda: stack.receiver.distinct() >= 100, 120, "100 webhooks received")

    fault_start = time.monotonic()
    received_at_kill = stack.receiver.distinct()
    stack.worker.kill9()  # the worker relaying and sending, with its pool, mid-delivery
    accepted_at_kill = load.done()
    time.sleep(2)
    stack.worker.start(ready=" ready.")
    fault_end = time.monotonic()

    load.join(timeout=240)
    report, settled = _settle(stack, load, fault_end)
    assert received_at_kill < len(report["events"]), "every webhook was out before the kill"
    _check_and_print(
        "relay killed mid-delivery",
        stack,
        load,
        report,
        fault_start=fault_start,
        fault_end=fault_end,
        settled_s=settled,
        extra={"webhooks_received_at_kill": received_at_kill, "orders_at_kill": accepted_at_kill},
    )
