"""Errors raised by the X12 parser, the typed readers and the writers.

Every failure carries a stable ``code`` (an :class:`ErrorCode`, which compares equal to its
string value), a human message, and where it happened: the 0-based position of the segment in
the file (ISA of the first interchange = 0) and the segment id. Callers branch on ``code``; the
message is for people.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorCode(StrEnum):
    # the input as a whole
    NOT_X12 = "not_x12"  # empty, binary, or not starting with an ISA segment
    MISSING_ENVELOPE = "missing_envelope"  # bare GS or ST..SE without the ISA interchange header
    # envelope structure
    ISA_MALFORMED = "isa_malformed"
    GS_MALFORMED = "gs_malformed"
    SEGMENT_MALFORMED = "segment_malformed"  # segment id not 2-3 upper-case letters/digits
    MISSING_TRAILER = "missing_trailer"  # SE, GE or IEA missing (truncated file)
    UNEXPECTED_SEGMENT = "unexpected_segment"  # a segment where the envelope does not allow it
    # envelope counts and control numbers
    IEA_COUNT_MISMATCH = "iea_count_mismatch"  # IEA01 != number of functional groups
    IEA_CONTROL_MISMATCH = "iea_control_mismatch"  # IEA02 != ISA13
    GE_COUNT_MISMATCH = "ge_count_mismatch"  # GE01 != number of transaction sets in the group
    GE_CONTROL_MISMATCH = "ge_control_mismatch"  # GE02 != GS06
    SE_COUNT_MISMATCH = "se_count_mismatch"  # SE01 != number of segments ST..SE inclusive
    SE_CONTROL_MISMATCH = "se_control_mismatch"  # SE02 != ST02
    # typed readers and writers
    UNSUPPORTED_TRANSACTION_SET = "unsupported_transaction_set"
    MISSING_SEGMENT = "missing_segment"  # a mandatory segment (W05, W06, BSN) is absent
    INVALID_VALUE = "invalid_value"  # an interpreted value (date, quantity) cannot be read/written


# Problems that ``strict=False`` records as issues instead of raising: the file's structure is
# sound, only its bookkeeping (counts, control numbers, ISA padding, extra GS elements) is off.
TOLERABLE_CODES = frozenset(
    {
        ErrorCode.ISA_MALFORMED,  # only the fixed-width check; a broken ISA always raises
        ErrorCode.GS_MALFORMED,  # only "too many elements"; a short GS always raises
        ErrorCode.IEA_COUNT_MISMATCH,
        ErrorCode.IEA_CONTROL_MISMATCH,
        ErrorCode.GE_COUNT_MISMATCH,
        ErrorCode.GE_CONTROL_MISMATCH,
        ErrorCode.SE_COUNT_MISMATCH,
        ErrorCode.SE_CONTROL_MISMATCH,
    }
)


@dataclass(frozen=True, slots=True)
class X12Issue:
    """A problem found in the input, as data (what ``strict=False`` collects)."""

    code: ErrorCode
    message: str
    segment_index: int | None = None
    segment_id: str | None = None


class X12Error(ValueError):
    """Input rejected (or output refused) with a stable, specific ``code``."""

    def __init__(
        self,
        code: ErrorCode | str,
        message: str,
        segment_index: int | None = None,
        segment_id: str | None = None,
    ) -> None:
        self.code = ErrorCode(code)
        self.message = message
        self.segment_index = segment_index
        self.segment_id = segment_id
        where = ""
        if segment_index is not None:
            where = f" (segment {segment_index}{f' {segment_id}' if segment_id else ''})"
        super().__init__(f"[{self.code}] {message}{where}")

    def as_issue(self) -> X12Issue:
        return X12Issue(self.code, self.message, self.segment_index, self.segment_id)

    @classmethod
    def from_issue(cls, issue: X12Issue) -> X12Error:
        return cls(issue.code, issue.message, issue.segment_index, issue.segment_id)
