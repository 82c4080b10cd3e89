"""Domain errors: every refusal the system makes has a stable machine-readable code.

Services raise these; the API's exception handler turns them into 4xx responses of one shape
(`code`, `detail`, `errors`, `extra`) and the admin shows `detail` to the person. The HTTP status
here is a default for the API, not business logic.
"""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldError:
    """One problem with one part of the input (`field` is a path such as `lines[1].sku`)."""

    code: str
    detail: str
    field: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "field": self.field, "detail": self.detail}


@dataclass
class DomainError(Exception):
    code: str
    detail: str
    http_status: int = 409
    extra: dict[str, Any] = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.detail)

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


class NotFound(DomainError):
    def __init__(self, detail: str = "Not found.", code: str = "not_found") -> None:
        super().__init__(code=code, detail=detail, http_status=404)


class InvalidInput(DomainError):
    """The request is well-formed but refers to things that do not exist or are not allowed."""

    def __init__(
        self,
        errors: list[FieldError],
        detail: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        noun = "error" if len(errors) == 1 else "errors"
        super().__init__(
            code="validation_failed",
            detail=detail or f"The request has {len(errors)} {noun}.",
            http_status=400,
            errors=errors,
            extra=extra or {},
        )


class TransitionRefused(DomainError):
    """A state change that the object's current state does not allow."""

    def __init__(self, code: str, detail: str, **extra: Any) -> None:
        super().__init__(code=code, detail=detail, http_status=409, extra=extra)
