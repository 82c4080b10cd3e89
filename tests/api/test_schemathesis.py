"""schemathesis against the whole API, in process (Django's WSGI application: the stack gunicorn
runs, every middleware included), authenticated with a channel key (orders, availability), a
node key (fulfillments, feeds) and an ops admin's session (webhook subscriptions), as each
operation needs (issue 13, part 2).

Every check, every phase (examples, coverage, fuzzing, and stateful sequences through the
schema's links: capture → read, events, hold → release; subscribe → read, change, delete),
schema-valid and schema-violating data. Asserts 0 failures of any check, so 0 server errors and
0 undocumented status codes, and prints the figures. Bounded: a fixed seed, MAX_EXAMPLES per
operation and phase, and MAX_SECONDS per part of the API. schemathesis 4 fuzzes until its time
is up, so the time is what each part costs.

The API is fuzzed in PARTS, one test each, so that `make test`'s workers can share them: whole,
it was one four-minute test for a single worker. A part holds every operation its stateful links
join, and every operation is in exactly one part
(test_every_operation_is_fuzzed_in_exactly_one_part_with_the_operations_it_links_to); the four
parts take the four minutes the whole took.

Two settings say what the API is, not what to overlook:
- `with-security-parameters = false`: the credentials are real and sent by this test, so
  schemathesis does not fuzz them; the `ignored_auth` check still removes and corrupts them
  and expects 401/403.
- `positive_data_acceptance` also accepts 400 for the operations whose bodies or queries name
  things that must exist or agree (a SKU, a node, a fulfillment line, an order's totals, a
  webhook URL that must resolve to a public address): a schema can say "a string of 1–64
  characters", not "a SKU in the catalogue", so schema-valid data is refused there with a
  specific code (`unknown_sku`, `total_mismatch`, ...). Everywhere else valid data must be
  accepted.
"""

import os
import re
import sys

import pytest
import schemathesis
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.db import SessionStore
from django.core.wsgi import get_wsgi_application
from django.db import connections
from drf_spectacular.generators import SchemaGenerator
from schemathesis.engine import events
from schemathesis.transport.wsgi import WSGITransport

from fulfillment.models import FulfillmentOrder
from fulfillment.services.orchestration import orchestrate_order
from orders.services.api_clients import create_api_client
from tests.factories.inventory import NodeFactory, ProductFactory, stocked
from tests.factories.orders import ChannelFactory, captured_order
from tests.factories.users import staff_user

MAX_EXAMPLES = int(os.environ.get("OMS_SCHEMATHESIS_MAX_EXAMPLES", "5"))
MAX_SECONDS = int(os.environ.get("OMS_SCHEMATHESIS_MAX_SECONDS", "60"))  # per part
CSRF = "k" * 32

# Operations whose schema-valid input may still name something that does not exist.
REFERENCES_DATA = [
    r"^/api/v1/orders/$",
    r"^/api/v1/orders/\{number\}/(changes|cancel|lines|returns)/",  # addresses, countries, lines
    r"^/api/v1/returns/",  # return lines, units received and their dispositions
    r"^/api/v1/availability/$",
    r"^/api/v1/inventory/",
    r"^/api/v1/fulfillments/\{number\}/",
    r"^/api/v1/webhook-subscriptions/",
]


# The API's parts by path; the schema's links (capture → read, events, hold → release; subscribe
# → read, change, delete) stay inside one part, and a part whose operations have no links skips
# the stateful phase (schemathesis reports it as an error there).
PARTS = {
    "orders": r"^/api/v1/(orders|availability)/",
    "returns": r"^/api/v1/returns/",
    "fulfillments": r"^/api/v1/fulfillments/",
    "stock, subscriptions, cutover, inbound webhooks": (
        r"^/api/v1/(inventory|webhook-subscriptions|cutover|webhooks)/|^/webhooks/"
    ),
}


def _part_of(path: str) -> list[str]:
    return [name for name, regex in PARTS.items() if re.search(regex, path)]


def _links(schema: dict) -> list[tuple[str, str]]:
    """(path of the operation answering, path of the operation it links to) for every link."""
    paths = {
        operation["operationId"]: path
        for path, item in schema["paths"].items()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    return [
        (path, paths[link["operationId"]])
        for path, item in schema["paths"].items()
        for operation in item.values()
        if isinstance(operation, dict)
        for response in operation.get("responses", {}).values()
        for link in (response.get("links") or {}).values()
    ]


@pytest.fixture(scope="module")
def openapi() -> dict:
    """The schema /api/schema/ serves (as tests/contracts/test_api_schema_contract.py reads it)."""
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.fixture
def wsgi_transport(monkeypatch):
    """schemathesis 4.32's in-process transport drops the socket-only options (max_redirects,
    verify, cert, proxies) only when it is handed a requests session; some checks call it
    without one, and werkzeug then refuses the keyword (TypeError). Drop them always."""
    send = WSGITransport.send

    def send_without_socket_options(self, case, *, session=None, **kwargs):
        for name in ("max_redirects", "verify", "cert", "proxies"):
            kwargs.pop(name, None)
        return send(self, case, session=session, **kwargs)

    monkeypatch.setattr(WSGITransport, "send", send_without_socket_options)


@pytest.fixture
def world(transactional_db, wsgi_transport, monkeypatch):
    """A channel and its key, a DC and its key with a released fulfillment order, an ops admin's
    session, and the SSRF guard's resolver answering a public address without network."""
    monkeypatch.setattr("webhooks.ssrf.resolve", lambda host, port: ["93.184.215.14"])
    channel = ChannelFactory(code="web")
    node = NodeFactory(code="dc-east")
    stocked(node, ProductFactory(sku="TEE"), on_hand=1000)
    order = captured_order(channel, skus=["TEE"], quantity=2)
    orchestrate_order(order_id=order.pk)
    Group.objects.get_or_create(name="ops_admin")  # a transactional test before may flush it
    ops = staff_user("ops", "ops_admin")
    session = SessionStore()
    session["_auth_user_id"] = str(ops.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = ops.get_session_auth_hash()
    session.create()
    yield {
        "channel_key": create_api_client(channel_code="web", name="fuzz").key,
        "node_key": create_api_client(node_code="dc-east", name="fuzz wms").key,
        "fulfillment": FulfillmentOrder.objects.get(order=order).number,
        "session": session.session_key,
    }
    for alias in connections:  # schemathesis's threads' connections, before the flush
        connections[alias].close()


def _config(world, part, stateful):
    channel = {"Authorization": f"Bearer {world['channel_key']}"}
    node = {"Authorization": f"Bearer {world['node_key']}"}
    staff = {"Cookie": f"sessionid={world['session']}; csrftoken={CSRF}", "X-CSRFToken": CSRF}
    # schemathesis's default expected statuses for valid data, and 400; and 422: its generated
    # Idempotency-Keys repeat across different bodies (`idempotency_key_reused`)
    expected = ["2xx", "3xx", 400, 401, 403, 404, 409, 422, 429, "5xx"]
    accepts_400 = {"positive_data_acceptance": {"expected-statuses": expected}}
    operations = [
        {"include-path-regex": r"^/api/v1/(orders|availability|returns)/", "headers": channel},
        {"include-path-regex": r"^/api/v1/inventory/", "headers": node},
        {
            "include-path-regex": r"^/api/v1/fulfillments/",
            "headers": node,
            "parameters": {"number": world["fulfillment"]},
        },
        {"include-path-regex": r"^/api/v1/webhook-subscriptions/", "headers": staff},
    ]
    return schemathesis.Config.from_dict(
        {
            "seed": 20261206,
            "max-time": MAX_SECONDS,
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "mode": "all",
                "no-shrink": True,  # the failing case is printed as found; shrinking costs minutes
                "with-security-parameters": False,
            },
            "checks": {"enabled": True},
            "phases": {"stateful": {"enabled": stateful, "max-steps": 10}},
            "operations": [
                # schemathesis 4 selects operations by configuration: the rest are turned off
                {"exclude-path-regex": PARTS[part], "enabled": False},
                *operations,
                *({"include-path-regex": path, "checks": accepts_400} for path in REFERENCES_DATA),
            ],
        }
    )


def _describe(recorder, case_id, check):
    failure = check.failure_info.failure
    case = recorder.cases[case_id].value
    interaction = recorder.interactions.get(case_id)
    response = interaction.response if interaction is not None else None
    answer = f"{response.status_code} {response.content[:300]!r}" if response else "no response"
    return (
        f"{recorder.label} [{check.name}] {failure.title}: {failure.message[:200]!r}\n"
        f"      {case.method} {case.formatted_path} query={case.query!r} "
        f"body={str(case.body)[:300]!r}\n      → {answer}"
    )


@pytest.mark.django_db
def test_every_operation_is_fuzzed_in_exactly_one_part_with_the_operations_it_links_to(openapi):
    # given
    paths = openapi["paths"]

    # when
    parts = {path: _part_of(path) for path in paths}
    links = _links(openapi)

    # then
    assert len(paths) >= 35
    assert {path: names for path, names in parts.items() if len(names) != 1} == {}
    assert len(links) >= 7
    assert [(a, b) for a, b in links if _part_of(a) != _part_of(b)] == []


@pytest.mark.parametrize("part", PARTS)
def test_schemathesis_finds_no_server_error_and_no_undocumented_status(world, openapi, part):
    # given: the part's operations, through its schema links too when it has any
    stateful = any(_part_of(path) == [part] for path, _ in _links(openapi))
    schema = schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json",
        get_wsgi_application(),
        config=_config(world, part, stateful),
    )

    # when
    cases, failures, errors, finished = 0, set(), [], None
    phases: dict[str, list[float]] = {}  # phase → [seconds, cases]
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.PhaseStarted):
            phases.setdefault(str(event.phase.name), [0, 0])[0] -= event.timestamp
        elif isinstance(event, events.PhaseFinished) and str(event.phase.name) in phases:
            phases[str(event.phase.name)][0] += event.timestamp
        if isinstance(event, events.ScenarioFinished):
            cases += len(event.recorder.cases)
            phases.setdefault(str(event.phase), [0, 0])[1] += len(event.recorder.cases)
            for case_id, checks in event.recorder.checks.items():
                failures.update(
                    _describe(event.recorder, case_id, check)
                    for check in checks
                    if check.failure_info is not None
                )
        elif isinstance(event, events.NonFatalError):
            errors.append(f"{event.label}: {event.value!r}"[:500])
        elif isinstance(event, events.FatalError):
            errors.append(f"fatal: {event.exception!r}")
        elif isinstance(event, events.EngineFinished):
            finished = event

    # then
    operations = schema.statistic.operations.selected
    sys.stdout.write(
        f"\nschemathesis, {part}: {operations} operations, {cases} cases, "
        f"{len(failures)} failures, {len(errors)} errors, "
        f"{finished.running_time:.0f} s ({finished.stop_reason})\n"
    )
    sys.stdout.write(
        "".join(
            f"  {name}: {count} cases, {max(took, 0):.0f} s\n"
            for name, (took, count) in phases.items()
        )
    )
    sys.stdout.write("".join(f"  {line}\n" for line in sorted(failures) + errors))
    assert operations >= 5
    assert cases > operations * MAX_EXAMPLES
    assert (sorted(failures), errors) == ([], [])
