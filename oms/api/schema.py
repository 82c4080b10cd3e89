"""OpenAPI postprocessing (drf-spectacular's POSTPROCESSING_HOOKS): every operation documents
every status it can answer, and the schema carries links for stateful testing.

Statuses are added by what an operation is, not by listing endpoints, so an endpoint added
later is documented the same way without anyone remembering to (an explicit `responses=` on a
view keeps its own description; this only fills in what is missing):

| status | added to | because |
|---|---|---|
| 400 | every operation | a bad body or query (`validation_failed`, `nul_character`, ...) |
| 401 | every operation | no, unknown or revoked key; a bad webhook signature |
| 403 | operations that need a credential | the key's scope does not allow it |
| 404 | every operation | an unknown object or URL, a bad cursor |
| 406 | every operation | an `Accept` header that excludes JSON |
| 409 | POST, PUT, PATCH, DELETE | a conflict with the current state (DomainError's default) |
| 413 | POST, PUT, PATCH | a body over `OMS_MAX_BODY_BYTES` |
| 415 | operations with a request body | a body that is not `application/json` |
| 422 | operations that take an `Idempotency-Key` | the key was used for another request |
| 429 | every operation | over the rate limit (`Retry-After`) |

500 is not documented: it is a bug, and schemathesis in the test suite fails on any.
"""

from typing import Any

from oms.api.errors import ERROR_SCHEMA

ERROR_REF = {"$ref": "#/components/schemas/Error"}

_DESCRIPTIONS = {
    "400": "Invalid input: `validation_failed` (see `errors[]`), `malformed_json`, "
    "`nul_character`, `invalid_unicode`, `nesting_too_deep`, `too_many_items`, ...",
    "401": "`not_authenticated`, `invalid_api_key`, `api_key_revoked`, `invalid_signature`",
    "403": "`permission_denied` or a scope refusal such as `feed_not_allowed`",
    "404": "`not_found` or a specific `*_not_found`; also an unknown URL or a bad cursor",
    "406": "`not_acceptable`: the API answers application/json only",
    "409": "A conflict with the current state (the `code` says which)",
    "413": "`payload_too_large`",
    "415": "`unsupported_media_type`: send application/json",
    "422": "`idempotency_key_reused`",
    "429": "`throttled`; `Retry-After` says when to retry",
}
_WRITE_METHODS = {"post", "put", "patch", "delete"}
_BODY_METHODS = {"post", "put", "patch"}


def _statuses(method: str, operation: dict[str, Any]) -> list[str]:
    statuses = ["400", "401", "404", "406", "429"]
    if any(requirement for requirement in operation.get("security", [{}])):
        statuses.append("403")
    if method in _WRITE_METHODS:
        statuses.append("409")
    if method in _BODY_METHODS:
        statuses.append("413")
    if "requestBody" in operation:
        statuses.append("415")
    if any(p.get("name") == "Idempotency-Key" for p in operation.get("parameters", [])):
        statuses.append("422")
    return statuses


def _add_error_responses(method: str, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    for status in _statuses(method, operation):
        if status not in responses:
            responses[status] = {
                "description": _DESCRIPTIONS[status],
                "content": {"application/json": {"schema": ERROR_REF}},
            }
    if "429" in responses:
        responses["429"].setdefault(
            "headers", {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds"}}
        )


# Stateful links: (path, method, status) of the source → links to operations by path and method.
_LINKS: list[tuple[tuple[str, str, str], str, tuple[str, str], dict[str, str]]] = [
    (("/api/v1/orders/", "post", "201"), "GetOrder", ("/api/v1/orders/{number}/", "get"), {}),
    (
        ("/api/v1/orders/", "post", "201"),
        "GetOrderEvents",
        ("/api/v1/orders/{number}/events/", "get"),
        {},
    ),
    (
        ("/api/v1/orders/", "post", "201"),
        "PlaceHold",
        ("/api/v1/orders/{number}/holds/", "post"),
        {},
    ),
    (
        ("/api/v1/orders/{number}/holds/", "post", "201"),
        "ReleaseHold",
        ("/api/v1/orders/{number}/holds/{hold_id}/release/", "post"),
        {"number": "$request.path.number", "hold_id": "$response.body#/id"},
    ),
    (
        ("/api/v1/webhook-subscriptions/", "post", "201"),
        "GetSubscription",
        ("/api/v1/webhook-subscriptions/{id}/", "get"),
        {"id": "$response.body#/id"},
    ),
    (
        ("/api/v1/webhook-subscriptions/", "post", "201"),
        "ChangeSubscription",
        ("/api/v1/webhook-subscriptions/{id}/", "patch"),
        {"id": "$response.body#/id"},
    ),
    (
        ("/api/v1/webhook-subscriptions/", "post", "201"),
        "DeleteSubscription",
        ("/api/v1/webhook-subscriptions/{id}/", "delete"),
        {"id": "$response.body#/id"},
    ),
]
_ORDER_NUMBER = {"number": "$response.body#/number"}


def _add_links(paths: dict[str, Any]) -> None:
    for (path, method, status), name, (target_path, target_method), parameters in _LINKS:
        source = paths.get(path, {}).get(method, {}).get("responses", {}).get(status)
        target = paths.get(target_path, {}).get(target_method)
        if source is None or target is None or "operationId" not in target:
            continue
        source.setdefault("links", {})[name] = {
            "operationId": target["operationId"],
            "parameters": parameters or _ORDER_NUMBER,
        }


# No NUL character in any string the API takes (oms/api/input_limits.py): said in the schema as
# a pattern on every input string that has none, so clients and schemathesis know it.
NO_NUL_PATTERN = "^[^\\u0000]*$"


def _forbid_nul(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("type") == "string" and "pattern" not in node and "enum" not in node:
            node["pattern"] = NO_NUL_PATTERN
        for key, child in node.items():
            if key not in ("example", "examples", "default", "enum"):
                _forbid_nul(child)
    elif isinstance(node, list):
        for child in node:
            _forbid_nul(child)


def postprocess_schema(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    for name, component in schemas.items():
        if name.endswith("Request"):  # COMPONENT_SPLIT_REQUEST: the input side only
            _forbid_nul(component)
    paths = result.get("paths", {})
    for item in paths.values():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                _add_error_responses(method, operation)
                for parameter in operation.get("parameters", []):
                    if parameter.get("name") == "Idempotency-Key":
                        # what oms/api/idempotency.py accepts: 1-255 visible ASCII characters
                        parameter["schema"] = {"type": "string", "pattern": "^[!-~]{1,255}$"}
                    _forbid_nul(parameter.get("schema"))
    _add_links(paths)
    return result
