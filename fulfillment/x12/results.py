"""What importing 945s reports: the outcome of each shipping advice, of each file, and the error
(a DomainError with a code) for an advice or a file that cannot be applied."""

from dataclasses import dataclass

from oms.core.errors import DomainError

APPLIED_OUTCOMES = ("shipped", "short_shipped", "rejected")


class X12ImportError(DomainError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code=code, detail=detail, http_status=422)


@dataclass(frozen=True)
class AdviceResult:
    message_id: str  # <ISA13>-<GS06>-<ST02>
    fulfillment: str  # W06-02 as sent ("" when empty)
    outcome: str  # shipped | short_shipped | rejected | duplicate | failed
    error_code: str = ""
    error: str = ""
    tracking_numbers: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportResult:
    file: str
    status: str  # processed | failed | skipped
    moved_to: str = ""
    advices: tuple[AdviceResult, ...] = ()
    error_code: str = ""  # a file-level problem (broken envelope, unreadable, no 945 in it)
    error: str = ""

    @property
    def applied(self) -> int:
        return sum(a.outcome in APPLIED_OUTCOMES for a in self.advices)

    @property
    def duplicates(self) -> int:
        return sum(a.outcome == "duplicate" for a in self.advices)

    @property
    def errors(self) -> list[tuple[str, str]]:
        found = [(self.error_code, self.error)] if self.error_code else []
        return found + [(a.error_code, a.error) for a in self.advices if a.outcome == "failed"]
