"""API rates per client (docs/security.md): over OMS_API_RATE a client gets 429 `throttled`
with Retry-After in the API's error shape; another client's budget is its own. Callers without
a key are counted per IP at OMS_API_ANON_RATE. The counters are tested in the test settings'
local memory and in the real Redis of REDIS_URL (one round trip per call, windows, fail-open)."""

import os
import time
import uuid

import pytest
from django.core.cache import cache, caches
from django.test import override_settings
from redis.connection import Connection
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def away_from_a_window_edge(period: int = 60) -> None:
    """Counting is per fixed window (oms/api/throttling.py): start a test's calls at least two
    seconds before the window ends, so they all fall in one."""
    left = period - time.time() % period
    if left < 2:
        time.sleep(left + 0.01)


@pytest.fixture(autouse=True)
def fresh_counters():
    cache.clear()
    yield
    cache.clear()


@override_settings(OMS_API_RATE="3/min")
def test_a_client_over_its_rate_gets_429_with_retry_after_and_others_are_unaffected(
    web_api, pos_api
):
    away_from_a_window_edge()
    for _ in range(3):
        assert web_api.get("/api/v1/orders/").status_code == 200

    response = web_api.get("/api/v1/orders/")

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    body = response.json()
    assert body["code"] == "throttled"
    assert set(body) == {"code", "detail", "errors", "extra"}
    # another client (another key) has its own budget
    assert pos_api.get("/api/v1/orders/").status_code == 200


@override_settings(OMS_API_ANON_RATE="2/min", OMS_CARRIER_WEBHOOKS_ALLOW_UNSIGNED=False)
def test_callers_without_a_key_are_counted_per_ip():
    anon = APIClient(REMOTE_ADDR="203.0.113.7")
    other = APIClient(REMOTE_ADDR="203.0.113.8")
    url = "/api/v1/webhooks/carriers/easypost/"
    away_from_a_window_edge()
    statuses = [anon.post(url, {}, format="json").status_code for _ in range(3)]
    assert statuses[:2] != [429, 429]
    assert statuses[2] == 429
    # a forged X-Forwarded-For does not buy a new budget (OMS_NUM_PROXIES=0)
    forged = anon.post(url, {}, format="json", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert forged.status_code == 429
    assert other.post(url, {}, format="json").status_code != 429


def _redis_cache(location: str, prefix: str) -> dict:
    return {
        "default": {
            "BACKEND": "oms.core.cache.SharedClientRedisCache",
            "LOCATION": location,
            "KEY_PREFIX": prefix,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


@pytest.fixture
def redis_counters():
    """The throttle's counters in the test Redis (REDIS_URL), under a prefix of this test's own
    so parallel test workers do not share them; removed afterwards."""
    prefix = f"test-throttle-{uuid.uuid4().hex}"
    with override_settings(CACHES=_redis_cache(os.environ["REDIS_URL"], prefix)):
        yield caches["default"]
        client = caches["default"]._cache.get_client(write=True)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)


class _RoundTrips:
    """Counts the commands sent to Redis and the times they were sent (one pipeline = one)."""

    def __init__(self, monkeypatch):
        self.sends, self.commands = 0, []
        original = Connection.send_packed_command

        def send(conn, command, check_health=True):
            self.sends += 1
            return original(conn, command, check_health)

        original_pack = Connection.pack_commands

        def pack(conn, commands):
            self.commands.extend(str(c[0]).upper() for c in commands)
            return original_pack(conn, commands)

        monkeypatch.setattr(Connection, "send_packed_command", send)
        monkeypatch.setattr(Connection, "pack_commands", pack)


@override_settings(OMS_API_RATE="3/min")
def test_on_redis_each_call_is_one_round_trip_and_the_fourth_gets_429(
    web_api, pos_api, redis_counters, monkeypatch
):
    away_from_a_window_edge()
    web_api.get("/api/v1/orders/")  # connects to Redis (the handshake is not the count)
    trips = _RoundTrips(monkeypatch)

    statuses = [web_api.get("/api/v1/orders/").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    # one send per request: INCR and EXPIRE in one pipeline (DRF's throttle sent a GET, then a SET)
    assert trips.sends == 3
    assert trips.commands == ["INCRBY", "EXPIRE"] * 3
    response = web_api.get("/api/v1/orders/")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert response.json()["code"] == "throttled"
    assert response.json()["detail"].startswith("Request was throttled. Expected available in ")
    # the counter is Redis's, expires with its window, and the other key has its own
    client = redis_counters._cache.get_client(write=True)
    [key] = [k for k in client.scan_iter(f"{redis_counters.key_prefix}:*") if b"api_client" in k]
    assert 0 < client.ttl(key) <= 60
    assert int(client.get(key)) == 5
    assert pos_api.get("/api/v1/orders/").status_code == 200


@override_settings(OMS_API_RATE="2/s")
def test_on_redis_a_new_window_has_a_new_budget(web_api, redis_counters):
    # start right after a second begins, so the three calls fall in one window
    time.sleep(1 - time.time() % 1)
    statuses = [web_api.get("/api/v1/orders/").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]

    time.sleep(1 - time.time() % 1 + 0.01)

    assert web_api.get("/api/v1/orders/").status_code == 200


@override_settings(
    CACHES=_redis_cache("redis://127.0.0.1:1/0", "unreachable"), OMS_API_RATE="3/hour"
)
def test_without_its_cache_each_process_counts_on_its_own(web_api, pos_api, caplog):
    # given: the Redis that keeps the counters does not answer (nothing listens on port 1)

    # when: four calls of one key, one of another
    statuses = [web_api.get("/api/v1/orders/").status_code for _ in range(4)]
    other = pos_api.get("/api/v1/orders/").status_code

    # then: served while under the rate (not a 500), refused over it, per key; logged once
    assert statuses == [200, 200, 200, 429]
    assert other == 200
    assert caplog.text.count("rate limit counted in this process only") == 1


@override_settings(OMS_API_RATE="2000/min")
def test_on_redis_a_high_rate_takes_counts_a_few_at_a_time_and_never_passes_the_rate(
    web_api, redis_counters, monkeypatch
):
    # A lease (oms/api/throttling.py): at 2,000/min one INCRBY 2 serves two calls of this
    # process; near the limit the process gets only what is left of the window's budget.
    from oms.api.throttling import lease_size

    assert lease_size(999) == 1
    assert lease_size(2000) == 2
    assert lease_size(6000) == 6
    assert lease_size(10**6) == 8
    away_from_a_window_edge()
    web_api.get("/api/v1/orders/")  # connects to Redis, takes a lease of 2 (one left)
    trips = _RoundTrips(monkeypatch)

    statuses = [web_api.get("/api/v1/orders/").status_code for _ in range(3)]

    assert statuses == [200, 200, 200]
    assert trips.commands == ["INCRBY", "EXPIRE"]  # the first call used the lease left over
    client = redis_counters._cache.get_client(write=True)
    [key] = [k for k in client.scan_iter(f"{redis_counters.key_prefix}:*") if b"api_client" in k]
    assert int(client.get(key)) == 4

    # given: other processes counted the window up to one call short of the rate
    client.set(key, 1999, keepttl=True)

    # when: this process's lease is used up: it asks for two more and gets the one left
    assert web_api.get("/api/v1/orders/").status_code == 200  # INCRBY 2 → 2001: one granted
    assert int(client.get(key)) == 2001
    response = web_api.get("/api/v1/orders/")  # INCRBY 2 → 2003: nothing left

    # then
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
