from integrations.carriers.base import CarrierError
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


class LabelNotBought(DomainError):
    """The carrier did not sell the label: nothing was shipped; the person is told why."""

    def __init__(self, error: CarrierError) -> None:
        if error.retryable:
            detail = (
                "The carrier did not answer, so no label was bought and nothing was shipped. "
                "Try again in a minute."
            )
        else:
            detail = (
                f"The carrier refused the label ({error.message}). Nothing was shipped; ask "
                "operations to check the order's address."
            )
        super().__init__(code=f"carrier_{error.code}", detail=detail, http_status=409)
        self.retryable = error.retryable
