from oms.core.errors import DomainError


class OpsErrorCode:
    CASE_NOT_OPEN = "case_not_open"
    NO_ORDER = "case_has_no_order"
    NOT_APPLICABLE = "remedy_not_applicable"
    NOT_EDITABLE = "rule_set_not_editable"
    SELF_APPROVAL = "self_approval_forbidden"
    NOT_PENDING = "rule_set_not_pending"
    NOT_ACTIVE = "rule_set_not_active"
    NOT_DRAFT = "rule_set_not_draft"
    INVALID = "rule_set_invalid"


class OpsRefused(DomainError):
    def __init__(self, code: str, detail: str, **extra: object) -> None:
        super().__init__(code=code, detail=detail, http_status=409, extra=dict(extra))
