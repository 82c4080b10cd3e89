"""Error codes of the cutover (each a DomainError with a stable code; the API answers 4xx)."""

from oms.core.errors import DomainError


class CutoverErrorCode:
    NOT_DRAFT = "cutover_plan_not_draft"
    NOT_PENDING = "cutover_plan_not_pending"
    SELF_APPROVAL = "self_approval_forbidden"
    BAD_SHARE = "bad_share"
    BAD_NARROWING = "bad_narrowing"
    NO_CHANGE = "cutover_plan_unchanged"
    NOT_SHADOW = "order_not_in_shadow"
    NOT_MIRRORED = "order_not_mirrored"


class CutoverRefused(DomainError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code=code, detail=detail, http_status=409)
