"""The OpenAPI schema's promises, for every operation there is and any added later (issue 13):
every request body refuses undeclared keys (its serializer is a StrictInputSerializer), and
every operation documents the error statuses it can answer (oms/api/schema.py)."""

from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def _resolve(schema, node):
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _objects_in(schema, node, seen=None):
    """Every object schema a request body can hold, nested ones included."""
    seen = set() if seen is None else seen
    if "$ref" in node:
        if node["$ref"] in seen:
            return
        seen.add(node["$ref"])
    node = _resolve(schema, node)
    if node.get("type") == "object" and "properties" in node:
        yield node
        for child in node["properties"].values():
            yield from _objects_in(schema, child, seen)
    if node.get("type") == "array" and "items" in node:
        yield from _objects_in(schema, node["items"], seen)
    for key in ("oneOf", "anyOf", "allOf"):
        for child in node.get(key, []):
            yield from _objects_in(schema, child, seen)


def test_every_request_body_refuses_undeclared_keys(schema):
    loose = []
    for path, method, operation in _operations(schema):
        for media in operation.get("requestBody", {}).get("content", {}).values():
            for obj in _objects_in(schema, media["schema"]):
                if obj.get("additionalProperties") is not False:
                    loose.append(f"{method.upper()} {path}: {sorted(obj['properties'])}")
    assert loose == [], (
        "derive these input serializers from oms.api.serializers.StrictInputSerializer"
    )


def test_every_operation_documents_its_error_statuses(schema):
    missing = []
    for path, method, operation in _operations(schema):
        expected = {"400", "401", "404", "406", "429"}
        if method in ("post", "put", "patch", "delete"):
            expected |= {"409"}
        if "requestBody" in operation:
            expected |= {"413", "415"}
        gaps = expected - set(operation["responses"])
        if gaps:
            missing.append(f"{method.upper()} {path}: {sorted(gaps)}")
    assert missing == []


def test_the_schema_links_capture_to_the_order_and_its_holds_for_stateful_tests(schema):
    capture = schema["paths"]["/api/v1/orders/"]["post"]["responses"]["201"]
    hold = schema["paths"]["/api/v1/orders/{number}/holds/"]["post"]["responses"]["201"]

    assert sorted(capture["links"]) == ["GetOrder", "GetOrderEvents", "PlaceHold"]
    assert hold["links"]["ReleaseHold"]["parameters"] == {
        "number": "$request.path.number",
        "hold_id": "$response.body#/id",
    }
