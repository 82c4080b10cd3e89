"""Refusals of the returns app, each with a stable code (docs/api.md, "Returns")."""

from typing import Any

from oms.core.errors import DomainError, FieldError


class ReturnRefused(DomainError):
    """The policy refuses the return (`return_window_closed`, `sku_not_returnable`): 422 with
    every reason in `errors`."""

    def __init__(self, errors: list[FieldError]) -> None:
        first = errors[0]
        super().__init__(
            code=first.code,
            detail=" ".join(e.detail for e in errors),
            http_status=422,
            errors=errors,
        )


class ReturnTransitionRefused(DomainError):
    def __init__(self, code: str, detail: str, **extra: Any) -> None:
        super().__init__(code=code, detail=detail, http_status=409, extra=extra)


POLICY_CODES = frozenset({"return_window_closed", "sku_not_returnable"})
