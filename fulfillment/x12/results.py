"""What importing X12 files reports: the outcome of each transaction set (a 945 shipping advice,
a 944 receipt advice...), of each file, and the error (a DomainError with a code) for a set or a
file that cannot be applied."""

from dataclasses import dataclass

from oms.core.errors import DomainError

APPLIED_OUTCOMES = ("shipped", "short_shipped", "rejected", "received", "counted")


class X12ImportError(DomainError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code=code, detail=detail, http_status=422)


@dataclass(frozen=True)
class AdviceResult:
    message_id: str  # <ISA13>-<GS06>-<ST02>
    # The document the set names, as sent ("" when empty): the fulfillment order (945 W06-02),
    # the return (944 W17-04), the stock report's reference (846 BIA-03).
    fulfillment: str
    # shipped | short_shipped | rejected | received | counted | ignored_stale | duplicate | failed
    outcome: str
    error_code: str = ""
    error: str = ""
    tracking_numbers: tuple[str, ...] = ()
    transaction_set: str = "945"  # ST01


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
