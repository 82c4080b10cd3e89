"""schemathesis against the whole API, in process (WSGI), with a channel key and a node key.

All checks, every phase (examples, coverage, fuzzing, stateful through the schema's links),
positive and negative data. Asserts 0 server errors and 0 undocumented status codes (0
failures of any check) and prints the figures. Bounded: a fixed seed, few examples per
operation and a time limit, so it stays within a couple of minutes on two cores.
"""

import os

import pytest
import schemathesis
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.db import SessionStore
from django.core.wsgi import get_wsgi_application
from django.db import connections
from schemathesis.engine import events

from fulfillment.models import FulfillmentOrder
from fulfillment.services.orchestration import orchestrate_order
from orders.services.api_clients import create_api_client
from tests.factories.inventory import NodeFactory, ProductFactory, stocked
from tests.factories.orders import ChannelFactory, captured_order
from tests.factories.users import staff_user

MAX_EXAMPLES = int(os.environ.get("ST_MAX_EXAMPLES", "25"))
MAX_SECONDS = 240


@pytest.fixture
def world(transactional_db, monkeypatch):
    """A channel and its key, a DC and its key with a released fulfillment order, an ops admin's
    session (webhook subscriptions), and the SSRF guard's resolver without network."""
    monkeypatch.setattr("webhooks.ssrf.resolve", lambda host, port: ["93.184.215.14"])
    channel = ChannelFactory(code="web")
    node = NodeFactory(code="dc-east")
    product = ProductFactory(sku="TEE")
    stocked(node, product, on_hand=1000)
    order = captured_order(channel, skus=["TEE"], quantity=2)
    orchestrate_order(order_id=order.pk)
    fulfillment = FulfillmentOrder.objects.get(order=order)
    Group.objects.get_or_create(name="ops_admin")  # a transactional test before may flush it
    ops = staff_user("ops", "ops_admin")
    session = SessionStore()
    session["_auth_user_id"] = str(ops.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = ops.get_session_auth_hash()
    session.create()
    return {
        "channel_key": create_api_client(channel_code="web", name="fuzz").key,
        "node_key": create_api_client(node_code="dc-east", name="fuzz wms").key,
        "order": order.number,
        "fulfillment": fulfillment.number,
        "session": session.session_key,
    }


def _config(world):
    csrf = "f" * 32
    channel = {"Authorization": f"Bearer {world['channel_key']}"}
    node = {"Authorization": f"Bearer {world['node_key']}"}
    staff = {"Cookie": f"sessionid={world['session']}; csrftoken={csrf}", "X-CSRFToken": csrf}
    generation = {"max-examples": MAX_EXAMPLES, "mode": "all", "deterministic": False}
    return schemathesis.Config.from_dict(
        {
            "seed": 20261206,
            "max-time": MAX_SECONDS,
            "generation": generation,
            "checks": {"enabled": True},
            "phases": {"stateful": {"max-steps": 20}},
            "operations": [
                {"include-path-regex": r"^/api/v1/orders/", "headers": channel},
                {"include-path-regex": r"^/api/v1/availability/", "headers": channel},
                {"include-path-regex": r"^/api/v1/(fulfillments|inventory)/", "headers": node},
                {
                    "include-path-regex": r"^/api/v1/fulfillments/\{number\}/",
                    "headers": node,
                    "parameters": {"number": world["fulfillment"]},
                },
                {"include-path-regex": r"^/api/v1/webhook-subscriptions/", "headers": staff},
            ],
        }
    )


def test_schemathesis_finds_no_server_error_and_no_undocumented_status(world):
    schema = schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json", get_wsgi_application(), config=_config(world)
    )
    operations = cases = 0
    failures: list[str] = []
    errors: list[str] = []
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            cases += len(event.recorder.cases)
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if check.failure_info is not None:
                        failure = check.failure_info.failure
                        case = event.recorder.cases[case_id].value
                        failures.append(
                            f"{event.recorder.label} [{check.name}] {failure.title}: "
                            f"{failure.message[:300]} | {case.method} {case.formatted_path} "
                            f"query={case.query} body={str(case.body)[:300]}"
                        )
        elif isinstance(event, events.NonFatalError):
            errors.append(f"{event.label}: {event.value!r}"[:500])
        elif isinstance(event, events.FatalError):
            errors.append(f"fatal: {event.exception!r}")
        elif isinstance(event, events.EngineFinished):
            operations = schema.statistic.operations.selected
    for alias in connections:
        connections[alias].close()
    unique = sorted(set(failures))
    print(f"\nschemathesis: {operations} operations, {cases} cases, {len(unique)} failures")
    for line in unique:
        print("  ", line)
    if os.environ.get("ST_DUMP"):
        open(os.environ["ST_DUMP"], "w").write("\n".join(unique + errors))
    for line in errors:
        print("  error:", line)
    assert (unique, errors) == ([], [])
