"""With a real worker: the request's correlation id is in the task's JSON log line, and with
PROMETHEUS_MULTIPROC_DIR shared the worker's task metrics reach /metrics in the web process."""

import json

import pytest

from tests.api.test_orders_api import order_body
from tests.celery_worker import wait_until
from tests.factories.inventory import NodeFactory, ProductFactory, stocked

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def multiproc_dir(tmp_path, monkeypatch):
    """Set before celery_worker starts, so the worker process writes its metrics here."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    return tmp_path


def test_worker_logs_the_request_correlation_id_and_its_task_metrics_reach_metrics(
    multiproc_dir, celery_worker, web_api, client
):
    # given
    dc = NodeFactory(code="dc-east")
    stocked(dc, ProductFactory(sku="TEE-1"), on_hand=10)
    stocked(dc, ProductFactory(sku="MUG-2"), on_hand=10)

    # when
    response = web_api.post(
        "/api/v1/orders/", order_body(), format="json", HTTP_X_CORRELATION_ID="obs-corr-1"
    )

    # then: the JSON log line of the task carries the request's correlation id
    assert response.status_code == 201
    line = celery_worker.wait_for('"message": "orchestrated order"')
    assert json.loads(line)["correlation_id"] == "obs-corr-1"
    # and the worker's task timing, written to the shared directory, is in the scrape
    # (Celery logs "succeeded in" before task_postrun, where the metrics are written.)
    celery_worker.wait_for("succeeded in")
    success = (
        'oms_celery_tasks_total{outcome="success",task="fulfillment.tasks.orchestrate_order_task"}'
    )
    wait_until(lambda: success in client.get("/metrics").content.decode(), what="task metrics")
    text = client.get("/metrics").content.decode()
    assert success in text
    assert (
        'oms_celery_task_duration_seconds_count{task="fulfillment.tasks.orchestrate_order_task"}'
        in text
    )
