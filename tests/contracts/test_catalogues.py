"""docs/events.md documents exactly the registered event types; the OpenAPI schema builds."""

import re
from pathlib import Path

import pytest
from django.core.management import call_command

from fulfillment.models import RoutingTrigger
from oms.events import registry

DOCS = Path(__file__).resolve().parents[2] / "docs"


def documented_event_types() -> set[str]:
    text = (DOCS / "events.md").read_text()
    return set(re.findall(r"^### `([a-z_]+\.[a-z_.]+)`", text, flags=re.MULTILINE))


def test_the_routing_triggers_documented_are_the_ones_routing_records():
    text = (DOCS / "events.md").read_text()
    routed = text[text.index("### `order.routed`") : text.index("### `order.backordered`")]
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", routed, flags=re.MULTILINE))

    assert documented == set(RoutingTrigger.values)


def test_every_registered_event_type_is_documented_and_vice_versa():
    registered = {t.name for t in registry.all_types()}

    assert documented_event_types() == registered


@pytest.mark.django_db
def test_openapi_schema_builds_without_warnings(tmp_path, capsys):
    out = tmp_path / "schema.yaml"

    call_command("spectacular", "--file", str(out), "--validate", "--fail-on-warn")

    schema = out.read_text()
    for path in (
        "/api/v1/orders/:",
        "/api/v1/orders/{number}/:",
        "/api/v1/orders/{number}/events/:",
        "/api/v1/orders/{number}/holds/:",
    ):
        assert path in schema
    assert "Idempotency-Key" in schema
