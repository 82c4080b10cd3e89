"""API keys kept per process (oms/api/authentication.py, _ClientCache): the row of a key is
read once, then kept until PostgreSQL announces a change of an API client or a channel
(orders migration 0010's triggers, LISTEN/NOTIFY). A revoked key is refused by the next
request, however it was revoked, and by whichever process. Committed transactions throughout:
inside a transaction nothing is kept (and notifications only come with commits)."""

import select

import pytest
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.models import ApiClient, Channel
from orders.services.api_clients import revoke_api_client
from tests.sessions import other_session

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/orders/"


def _key_reads(web_api) -> tuple[int, int]:
    """(status, statements that read the API client's row) of one request."""
    with CaptureQueriesContext(connection) as ctx:
        status = web_api.get(URL).status_code
    return status, sum('FROM "orders_apiclient"' in q["sql"] for q in ctx.captured_queries)


def _other_session():
    """A session of its own, as another web process or an operator's shell has."""
    return other_session(connection.settings_dict)


def _wait_for_notification() -> None:
    """PostgreSQL hands a notification to a listening session as the NOTIFY's transaction
    commits, and that session writes it to its socket as soon as it runs: wait for it here (it
    takes well under a millisecond on a live machine), so the test is not a race."""
    poller = select.poll()
    poller.register(connection.connection.pgconn.socket, select.POLLIN)
    assert poller.poll(5000), "no notification reached this session"


def _warm(web_api) -> None:
    """A new key's first call records its first use (last_used_at), a change like any other:
    the second call reads the row again; from the third on it is kept."""
    assert _key_reads(web_api) == (200, 1)
    assert _key_reads(web_api) == (200, 1)


def test_a_key_is_read_once_then_kept(web_api):
    _warm(web_api)
    assert _key_reads(web_api) == (200, 0)
    assert _key_reads(web_api) == (200, 0)


def test_a_key_revoked_by_the_service_is_refused_by_the_next_request(web_api):
    _warm(web_api)
    assert _key_reads(web_api) == (200, 0)

    revoke_api_client(prefix=ApiClient.objects.get(name="storefront").prefix)

    response = web_api.get(URL)
    assert response.status_code == 401
    assert response.json()["code"] == "api_key_revoked"


def test_a_key_revoked_by_another_process_is_refused_by_the_next_request(web_api):
    _warm(web_api)
    assert _key_reads(web_api) == (200, 0)

    with _other_session() as other:  # raw SQL: no Django, no signals
        other.execute(
            "UPDATE orders_apiclient SET revoked_at = now() WHERE name = %s", ["storefront"]
        )
    _wait_for_notification()

    response = web_api.get(URL)
    assert response.status_code == 401
    assert response.json()["code"] == "api_key_revoked"


def test_a_key_deleted_or_its_table_truncated_is_unknown_at_once(web_api, pos_api):
    _warm(web_api)
    pos_api.get(URL)

    ApiClient.objects.filter(name="storefront").delete()
    assert web_api.get(URL).json()["code"] == "invalid_api_key"

    assert pos_api.get(URL).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE orders_apiclient CASCADE")
    assert pos_api.get(URL).json()["code"] == "invalid_api_key"


def test_a_change_of_a_channel_empties_the_kept_keys(web_api):
    _warm(web_api)
    assert _key_reads(web_api) == (200, 0)

    Channel.objects.filter(code="web").update(name="Web shop, renamed")

    assert _key_reads(web_api) == (200, 1)


def test_recording_a_keys_use_reads_it_again_once(web_api):
    # last_used_at is written at most once a minute: that write is a change like any other
    ApiClient.objects.filter(name="storefront").update(
        last_used_at=timezone.now() - timezone.timedelta(minutes=5)
    )
    assert _key_reads(web_api) == (200, 1)  # reads, then records the use (a notification)
    assert _key_reads(web_api) == (200, 1)  # the notification emptied the cache
    assert _key_reads(web_api) == (200, 0)


def test_a_new_connection_starts_empty_and_listens_again(web_api):
    _warm(web_api)
    assert _key_reads(web_api) == (200, 0)

    connection.close()  # a restart, CONN_MAX_AGE, a failover
    assert _key_reads(web_api) == (200, 1)  # read, then LISTEN on the new connection
    assert _key_reads(web_api) == (200, 1)  # read after the LISTEN: kept
    assert _key_reads(web_api) == (200, 0)
    with _other_session() as other:
        other.execute(
            "UPDATE orders_apiclient SET revoked_at = now() WHERE name = %s", ["storefront"]
        )
    _wait_for_notification()
    assert web_api.get(URL).json()["code"] == "api_key_revoked"


def test_a_session_the_server_ended_is_not_trusted(web_api):
    _warm(web_api)
    assert _key_reads(web_api) == (200, 0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    with _other_session() as other:
        other.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])  # waits for its end
        other.execute(
            "UPDATE orders_apiclient SET revoked_at = now() WHERE name = %s", ["storefront"]
        )

    # as a server does before each request (request_started): the health check notices the
    # ended session and replaces it; nothing kept for the old one is used
    close_old_connections()
    response = web_api.get(URL)
    assert response.status_code == 401
    assert response.json()["code"] == "api_key_revoked"


def test_nothing_is_kept_inside_a_transaction(web_api):
    from django.db import transaction

    _warm(web_api)
    with transaction.atomic():
        assert _key_reads(web_api) == (200, 1)
        assert _key_reads(web_api) == (200, 1)
