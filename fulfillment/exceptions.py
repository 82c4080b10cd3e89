from oms.core.errors import DomainError, FieldError, InvalidInput


class RuleSetErrorCode:
    INVALID_CONFIG = "invalid_rule_config"
    NOT_EDITABLE = "rule_set_not_editable"
    SELF_APPROVAL = "self_approval_forbidden"
    BACKTEST_REQUIRED = "backtest_required"
    NOT_PENDING = "rule_set_not_pending"
    NOT_ACTIVE = "rule_set_not_active"
    NOT_DRAFT = "rule_set_not_draft"


class InvalidRuleConfig(InvalidInput):
    def __init__(self, messages: list[str]) -> None:
        super().__init__(
            [
                FieldError(RuleSetErrorCode.INVALID_CONFIG, message, "config")
                for message in messages
            ],
            detail="The rule set is not valid: " + "; ".join(messages),
        )


class RuleSetRefused(DomainError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code=code, detail=detail, http_status=409)
