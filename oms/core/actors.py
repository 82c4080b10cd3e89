"""Who did something: an API client, a person in the admin or on a store screen, or the system."""

from dataclasses import dataclass
from typing import Any, Literal

ActorKind = Literal["api_client", "user", "system"]


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: str
    label: str

    @classmethod
    def system(cls, label: str = "system") -> "Actor":
        return cls(kind="system", id="", label=label)

    @classmethod
    def for_user(cls, user: Any) -> "Actor":
        return cls(kind="user", id=str(user.pk), label=user.get_username())

    @classmethod
    def for_api_client(cls, client: Any) -> "Actor":
        return cls(kind="api_client", id=str(client.pk), label=client.name)
