"""/metrics (content and access), /readyz (200, and 503 naming the failed dependency)."""

import pytest
from django.db import OperationalError

from oms.api.tasks import purge_expired_idempotency_keys_task
from oms.observability import views
from tests.servers import closed_port

pytestmark = pytest.mark.django_db


def test_metrics_show_http_requests_by_route_and_status(client):
    client.get("/healthz")
    client.get("/no-such-page")

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert 'oms_http_requests_total{method="GET",route="healthz",status="200"}' in text
    assert 'oms_http_requests_total{method="GET",route="<unmatched>",status="404"}' in text
    assert (
        'oms_http_request_duration_seconds_bucket{le="0.005",method="GET",route="healthz"}' in text
    )


def test_metrics_show_state_from_the_database(client):
    text = client.get("/metrics").content.decode()

    assert "oms_state_collector_up 1.0" in text
    assert "# TYPE oms_outbox_backlog_events gauge" in text
    assert "# TYPE oms_webhook_deliveries gauge" in text
    assert "# TYPE oms_open_exceptions gauge" in text


def test_metrics_show_celery_task_latency_and_outcome(client):
    purge_expired_idempotency_keys_task.delay()  # eager in tests: the signals fire here

    text = client.get("/metrics").content.decode()

    name = "oms.api.tasks.purge_expired_idempotency_keys_task"
    assert f'oms_celery_tasks_total{{outcome="success",task="{name}"}}' in text
    assert f'oms_celery_task_duration_seconds_count{{task="{name}"}}' in text


def test_metrics_refuse_other_addresses(client):
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403


def test_metrics_accept_an_allowed_network_or_the_bearer_token(client, settings):
    settings.OMS_METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    settings.OMS_METRICS_BEARER_TOKEN = "scrape-secret"

    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    ok = client.get("/metrics", REMOTE_ADDR="192.0.2.9", HTTP_AUTHORIZATION="Bearer scrape-secret")
    wrong = client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION="Bearer nope")
    assert ok.status_code == 200
    assert wrong.status_code == 403


def test_readyz_is_200_when_database_and_broker_answer(client, settings):
    assert settings.CELERY_BROKER_URL  # make test points it at the real Redis

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok"},
        "failed": [],
    }


def test_readyz_is_503_naming_the_broker_when_it_is_unreachable(client, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["failed"] == ["broker"]
    assert response.json()["checks"]["database"] == "ok"


def test_readyz_is_503_naming_the_database_when_it_fails(client, monkeypatch):
    def down() -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(views, "check_database", down)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["failed"] == ["database"]


def test_readyz_without_a_broker_checks_only_the_database(client, settings):
    settings.CELERY_BROKER_URL = ""

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"]["broker"] == "not_configured"


def test_healthz_still_answers(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_metrics_outside_debug_need_the_token_even_from_an_allowed_address(client, settings):
    """OMS_METRICS_REQUIRE_TOKEN (default: on outside DEBUG): behind a proxy on the same host
    every client comes from 127.0.0.1, so the allow-list alone does not open /metrics."""
    settings.OMS_METRICS_REQUIRE_TOKEN = True
    settings.OMS_METRICS_BEARER_TOKEN = "scrape-secret-0123456789abcdef0123"
    token = f"Bearer {settings.OMS_METRICS_BEARER_TOKEN}"

    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION=token).status_code == 200
    # the token from an address outside the allow-list is still refused
    assert (
        client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION=token).status_code == 403
    )


def test_metrics_outside_debug_without_a_configured_token_answer_nobody(client, settings):
    settings.OMS_METRICS_REQUIRE_TOKEN = True
    settings.OMS_METRICS_BEARER_TOKEN = ""

    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 403
