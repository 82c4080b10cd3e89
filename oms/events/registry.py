"""The catalogue of event types. Each app declares its own in `<app>/events.py` by calling
`register()` at import; docs/events.md documents every registered type (a test checks both
ways)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class EventType:
    name: str
    schema_version: int
    description: str


_REGISTRY: dict[str, EventType] = {}


def register(name: str, *, schema_version: int = 1, description: str) -> str:
    if name in _REGISTRY and _REGISTRY[name].schema_version != schema_version:
        raise ValueError(f"event type {name} registered twice with different versions")
    _REGISTRY[name] = EventType(name, schema_version, description)
    return name


def get(name: str) -> EventType:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise LookupError(f"unregistered event type {name!r}") from None


def all_types() -> list[EventType]:
    return sorted(_REGISTRY.values(), key=lambda t: t.name)
