"""Idempotency-Key contract (docs/api.md): replay, reuse, in-use, 4xx kept, 5xx forgotten,
per-client scope, expiry and recovery from a request that died holding the key."""

import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from oms.api.idempotency import purge_expired_keys
from oms.api.models import IdempotencyKey, IdempotencyKeyStatus
from oms.events.models import Event
from orders.models import Order
from tests.api.test_orders_api import order_body
from tests.conftest import bearer_client
from tests.factories.inventory import ProductFactory
from tests.factories.orders import ChannelFactory, issue_api_key
from tests.sessions import other_session

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _products(db):
    for sku in ("TEE-1", "MUG-2"):
        ProductFactory(sku=sku)


def post(api, body, key, **extra):
    return api.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY=key, **extra)


def test_same_key_and_body_replays_the_first_response(web_api):
    # given
    first = post(web_api, order_body(), "key-1")

    # when
    again = post(web_api, order_body(), "key-1")

    # then
    assert first.status_code == again.status_code == 201
    assert "Idempotent-Replayed" not in first
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Order.objects.count() == 1
    assert Event.objects.count() == 1


def test_same_content_with_other_key_order_and_spacing_is_the_same_request(web_api):
    import json

    body = order_body()
    post(web_api, body, "key-1")
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=4)

    again = web_api.post(
        "/api/v1/orders/", reordered, content_type="application/json", HTTP_IDEMPOTENCY_KEY="key-1"
    )

    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"


def test_same_key_with_a_different_body_is_422(web_api):
    post(web_api, order_body(), "key-1")

    response = post(web_api, order_body(external_id="W-other"), "key-1")

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1


def _wait_until_ended(pid: int) -> None:
    """Until PostgreSQL no longer lists the session `pid` (its server process exits a moment
    after its client closes), seen from a session of its own: the test's transaction would
    keep its first look at pg_stat_activity until it ends."""
    with other_session(connection.settings_dict) as observer:
        deadline = time.monotonic() + 10
        while observer.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = %s)", [pid]
        ).fetchone()[0]:
            assert time.monotonic() < deadline, pid
            time.sleep(0.01)


def _left_in_progress(record: IdempotencyKey, pid: int, body: dict) -> None:
    """The key as a request of session `pid` leaves it when it dies mid-way with `body`:
    claimed, in progress for 30 s more."""
    IdempotencyKey.objects.filter(pk=record.pk).update(
        status=IdempotencyKeyStatus.IN_PROGRESS,
        locked_until=timezone.now() + timedelta(seconds=30),
        claimed_by_session=pid,
        fingerprint=_fingerprint_of(body),
    )


@contextmanager
def a_live_session():
    """Another database session that stays open for the block (a request still running in
    another process); yields its backend pid and closes it at the end of the block. Whether
    it has ended is for _wait_until_ended to say: a look from the test's own transaction at
    pg_stat_activity would be that transaction's first look, kept until it ends."""
    with other_session(connection.settings_dict) as session:
        pid = session.info.backend_pid
        yield pid


def test_a_request_while_the_first_still_runs_is_409(web_api):
    # given: a claim held by a request that is still running (its session is alive)
    post(web_api, order_body(), "key-1")
    record = IdempotencyKey.objects.get(key="key-1")

    with a_live_session() as pid:
        IdempotencyKey.objects.filter(pk=record.pk).update(
            status=IdempotencyKeyStatus.IN_PROGRESS,
            locked_until=timezone.now() + timedelta(seconds=30),
            claimed_by_session=pid,
        )

        # when
        response = post(web_api, order_body(), "key-1")

    # then
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_in_use"


def test_a_claim_whose_session_died_is_taken_over_at_once(web_api):
    # given: a request claimed the key, then its process or the database died (a PostgreSQL
    # restart): the claim is in progress for 30 s more, but no session holds the key's lock
    post(web_api, order_body(external_id="first"), "key-1")
    record = IdempotencyKey.objects.get(key="key-1")
    with a_live_session() as pid:
        pass  # a session that has ended (its pid no longer in pg_stat_activity)
    _wait_until_ended(pid)
    _left_in_progress(record, pid, order_body(external_id="retry"))

    # when: the client retries at once
    response = post(web_api, order_body(external_id="retry"), "key-1")

    # then: no 409 until the lock timeout
    assert response.status_code == 201
    assert response.json()["external_id"] == "retry"
    assert IdempotencyKey.objects.get(key="key-1").status == IdempotencyKeyStatus.COMPLETED


def test_a_claim_whose_session_ended_after_the_transaction_looked_is_taken_over(web_api):
    # given: a transaction (the test's) that looked at pg_stat_activity while the claiming
    # session was alive: PostgreSQL keeps that look for the rest of the transaction
    post(web_api, order_body(external_id="first"), "key-1")
    record = IdempotencyKey.objects.get(key="key-1")
    with a_live_session() as pid, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        assert cursor.fetchone()[0] == 1
    _wait_until_ended(pid)
    _left_in_progress(record, pid, order_body(external_id="retry"))

    # when: the retry, in the same transaction
    response = post(web_api, order_body(external_id="retry"), "key-1")

    # then: the claim's check took a new look, not the transaction's first one
    assert response.status_code == 201


def test_a_claim_left_by_a_dead_request_is_taken_over_after_the_lock_timeout(web_api):
    # given: a request claimed the key and died before its transaction committed anything
    post(web_api, order_body(external_id="first"), "key-1")
    record = IdempotencyKey.objects.get(key="key-1")
    IdempotencyKey.objects.filter(pk=record.pk).update(
        status=IdempotencyKeyStatus.IN_PROGRESS,
        locked_until=timezone.now() - timedelta(seconds=1),
        fingerprint=_fingerprint_of(order_body(external_id="retry")),
    )

    # when
    response = post(web_api, order_body(external_id="retry"), "key-1")

    # then
    assert response.status_code == 201
    assert response.json()["external_id"] == "retry"
    assert IdempotencyKey.objects.get(key="key-1").status == IdempotencyKeyStatus.COMPLETED


def _fingerprint_of(body):
    from oms.api.idempotency import request_fingerprint

    return request_fingerprint("POST", "/api/v1/orders/", body)


def test_a_4xx_is_kept_and_replayed(web_api):
    # given: the first attempt names an unknown SKU
    body = order_body(
        lines=[{"sku": "LATER-1", "quantity": 1, "unit_price": "1.00"}], grand_total="6.00"
    )
    first = post(web_api, body, "key-1")
    ProductFactory(sku="LATER-1")  # the product appears afterwards

    # when
    again = post(web_api, body, "key-1")
    fresh = post(web_api, body, "key-2")

    # then
    assert first.status_code == again.status_code == 400
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert fresh.status_code == 201
    assert Order.objects.count() == 1


def test_a_5xx_is_forgotten_so_the_same_key_can_be_retried(web_api, monkeypatch):
    # given: capture crashes once
    from orders.services import capture

    real = capture.capture_order
    calls = {"n": 0}

    def flaky(**kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database went away")
        return real(**kwargs)

    monkeypatch.setattr("orders.api.views.capture_order", flaky)
    web_api.raise_request_exception = False

    # when
    crashed = post(web_api, order_body(), "key-1")
    retried = post(web_api, order_body(), "key-1")

    # then
    assert crashed.status_code == 500
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried
    assert Order.objects.count() == 1


def test_keys_are_scoped_to_the_api_client(web_channel):
    # given: two clients of different channels use the same key
    other = ChannelFactory(code="marketplace")
    api_a = bearer_client(issue_api_key(web_channel).key)
    api_b = bearer_client(issue_api_key(other).key)

    # when
    a = post(api_a, order_body(), "shared-key")
    b = post(api_b, order_body(), "shared-key")

    # then
    assert a.status_code == b.status_code == 201
    assert a.json()["number"] != b.json()["number"]
    assert "Idempotent-Replayed" not in b


def test_an_expired_key_is_a_new_key(web_api):
    post(web_api, order_body(), "key-1")
    IdempotencyKey.objects.filter(key="key-1").update(expires_at=timezone.now())

    response = post(web_api, order_body(external_id="W-next"), "key-1")

    assert response.status_code == 201
    assert Order.objects.count() == 2


def test_keys_are_kept_at_least_seven_days_then_purged(web_api):
    post(web_api, order_body(), "key-1")
    record = IdempotencyKey.objects.get(key="key-1")
    assert record.expires_at - record.created_at >= timedelta(days=7)

    assert purge_expired_keys() == 0
    IdempotencyKey.objects.filter(pk=record.pk).update(expires_at=timezone.now())
    assert purge_expired_keys() == 1


@pytest.mark.parametrize(
    ("_case", "key"), [("too long", "k" * 256), ("space", "a b"), ("non-ascii", "clé")]
)
def test_malformed_keys_are_400(web_api, _case, key):
    response = post(web_api, order_body(), key)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"
    assert not Order.objects.exists()


def test_without_a_key_a_retry_is_caught_by_the_external_id(web_api):
    first = web_api.post("/api/v1/orders/", order_body(), format="json")
    second = web_api.post("/api/v1/orders/", order_body(), format="json")

    assert (first.status_code, second.status_code) == (201, 409)
    assert second.json()["code"] == "duplicate_order"
