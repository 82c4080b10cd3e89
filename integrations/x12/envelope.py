"""The X12 envelope: interchanges (ISA/IEA) → functional groups (GS/GE) → transaction sets (ST/SE).

Strict by default: a wrong count or control number anywhere rejects the whole file with an
:class:`X12Error` naming the first problem in document order. ``strict=False`` is for triage
and for partners with known bookkeeping quirks: the problems listed in
``errors.TOLERABLE_CODES`` are collected in ``Interchange.issues`` instead of raised. Structural
damage (no ISA, a truncated file, a segment where the envelope allows none) always raises.
"""

from __future__ import annotations

from dataclasses import dataclass

from integrations.x12.errors import ErrorCode, X12Error, X12Issue
from integrations.x12.tokenizer import (
    Delimiters,
    IsaHeader,
    Segment,
    decode,
    make_segment,
    raw_segments,
    read_isa,
    skip_blank,
)

_ENVELOPE_IDS = frozenset({"ISA", "IEA", "GS", "GE", "ST"})


@dataclass(frozen=True, slots=True)
class TransactionSet:
    id: str  # ST01, e.g. "940"
    control_number: str  # ST02
    segments: tuple[Segment, ...]  # the body: everything between ST and SE
    version: str  # GS08 of the enclosing group, e.g. "004010" or "005010X..."
    implementation_reference: str | None = None  # ST03 (005010 implementation guides)
    index: int = -1  # position of the ST segment in the file


@dataclass(frozen=True, slots=True)
class FunctionalGroup:
    functional_id: str  # GS01: OW = 940, SW = 945, SH = 856, PO = 850...
    sender_id: str  # GS02
    receiver_id: str  # GS03
    date: str  # GS04 as sent (CCYYMMDD; YYMMDD in old versions)
    time: str  # GS05
    control_number: str  # GS06
    agency: str  # GS07, "X"
    version: str  # GS08
    transaction_sets: tuple[TransactionSet, ...]


@dataclass(frozen=True, slots=True)
class Interchange:
    delimiters: Delimiters
    sender_qualifier: str  # ISA05
    sender_id: str  # ISA06, blanks removed
    receiver_qualifier: str  # ISA07
    receiver_id: str  # ISA08, blanks removed
    date: str  # ISA09, YYMMDD
    time: str  # ISA10, HHMM
    version: str  # ISA12, e.g. "00401"
    control_number: str  # ISA13
    acknowledgment_requested: str  # ISA14
    usage: str  # ISA15: P production, T test
    groups: tuple[FunctionalGroup, ...]
    acknowledgments: tuple[Segment, ...] = ()  # TA1 segments (interchange acknowledgments)
    issues: tuple[X12Issue, ...] = ()  # only ever non-empty with strict=False

    @property
    def transaction_sets(self) -> tuple[TransactionSet, ...]:
        return tuple(ts for group in self.groups for ts in group.transaction_sets)


def _same_control(sent: str, expected: str) -> bool:
    sent, expected = sent.strip(), expected.strip()
    if sent == expected:
        return True
    return sent.isdigit() and expected.isdigit() and int(sent) == int(expected)


def _count(segment: Segment, position: int) -> int | None:
    value = segment.get(position)
    return int(value) if value is not None and value.isdigit() else None


class _SetBuilder:
    def __init__(self, st: Segment, version: str) -> None:
        self.st = st
        self.version = version
        self.body: list[Segment] = []

    def build(self) -> TransactionSet:
        return TransactionSet(
            id=self.st.get(1) or "",
            control_number=self.st.get(2) or "",
            segments=tuple(self.body),
            version=self.version,
            implementation_reference=self.st.get(3),
            index=self.st.index,
        )


class _GroupBuilder:
    def __init__(self, gs: Segment) -> None:
        self.gs = gs
        self.sets: list[TransactionSet] = []

    def build(self) -> FunctionalGroup:
        gs = self.gs
        return FunctionalGroup(
            functional_id=gs.get(1) or "",
            sender_id=gs.get(2) or "",
            receiver_id=gs.get(3) or "",
            date=gs.get(4) or "",
            time=gs.get(5) or "",
            control_number=gs.get(6) or "",
            agency=gs.get(7) or "",
            version=gs.get(8) or "",
            transaction_sets=tuple(self.sets),
        )


class _InterchangeParser:
    """Reads one interchange from ``text[start:]``; segment indexes continue from ``index``."""

    def __init__(self, text: str, start: int, index: int, *, strict: bool) -> None:
        self.text = text
        self.start = start
        self.index = index
        self.strict = strict
        self.issues: list[X12Issue] = []
        self.groups: list[FunctionalGroup] = []
        self.acknowledgments: list[Segment] = []
        self.group: _GroupBuilder | None = None
        self.tset: _SetBuilder | None = None

    def problem(self, code: ErrorCode, message: str, segment: Segment) -> None:
        error = X12Error(code, message, segment.index, segment.id)
        if self.strict:
            raise error
        self.issues.append(error.as_issue())

    def run(self) -> tuple[Interchange, int, int]:
        isa_index = self.index
        isa = read_isa(self.text, self.start, isa_index)
        if isa.width_problem:
            self.problem(ErrorCode.ISA_MALFORMED, isa.width_problem, Segment("ISA", (), isa_index))
        self.index += 1
        for raw, end in raw_segments(self.text, isa.end, isa.delimiters):
            index = self.index
            self.index += 1
            if raw.startswith("ISA") and not raw[3:4].isalnum():
                raise X12Error(
                    ErrorCode.MISSING_TRAILER,
                    f"interchange {isa.get(13).strip()} has no IEA before the next ISA",
                    index,
                    "ISA",
                )
            segment = make_segment(raw, index, isa.delimiters)
            if segment.id == "IEA" and self.tset is None and self.group is None:
                return self.close(isa, segment), end, self.index
            self.feed(segment)
        raise self.truncated()

    def truncated(self) -> X12Error:
        if self.tset is not None:
            what = f"transaction set {self.tset.st.get(2)} (ST at segment {self.tset.st.index})"
            missing = "SE"
        elif self.group is not None:
            what = f"functional group {self.group.gs.get(6)} (GS at segment {self.group.gs.index})"
            missing = "GE"
        else:
            what, missing = "the interchange", "IEA"
        return X12Error(
            ErrorCode.MISSING_TRAILER,
            f"the input ends inside {what}: {missing} is missing (truncated file?)",
            self.index,
        )

    def feed(self, segment: Segment) -> None:
        sid = segment.id
        if self.tset is not None:
            if sid == "SE":
                self.close_set(self.group, self.tset, segment)
            elif sid in _ENVELOPE_IDS:
                raise X12Error(
                    ErrorCode.MISSING_TRAILER,
                    f"transaction set {self.tset.st.get(2)} has no SE before this {sid}",
                    segment.index,
                    sid,
                )
            else:
                self.tset.body.append(segment)
        elif self.group is not None:
            if sid == "ST":
                self.open_set(self.group, segment)
            elif sid == "GE":
                self.close_group(self.group, segment)
            elif sid in _ENVELOPE_IDS:
                raise X12Error(
                    ErrorCode.MISSING_TRAILER,
                    f"functional group {self.group.gs.get(6)} has no GE before this {sid}",
                    segment.index,
                    sid,
                )
            else:
                raise X12Error(
                    ErrorCode.UNEXPECTED_SEGMENT,
                    f"{sid} outside a transaction set: only ST or GE may follow GS or SE",
                    segment.index,
                    sid,
                )
        elif sid == "GS":
            self.open_group(segment)
        elif sid == "TA1":
            self.acknowledgments.append(segment)
        else:
            where = "outside a functional group" if sid != "SE" else "without a matching ST"
            raise X12Error(
                ErrorCode.UNEXPECTED_SEGMENT,
                f"{sid} {where}: only GS, TA1 or IEA may follow ISA or GE",
                segment.index,
                sid,
            )

    def open_group(self, gs: Segment) -> None:
        if len(gs.elements) < 8 or not gs.get(1) or not gs.get(6):
            raise X12Error(
                ErrorCode.GS_MALFORMED,
                f"GS needs 8 elements with GS01 and GS06 present, got {len(gs.elements)}",
                gs.index,
                "GS",
            )
        if len(gs.elements) > 8:
            self.problem(
                ErrorCode.GS_MALFORMED,
                f"GS has {len(gs.elements)} elements, 8 expected (GS06 control number and "
                f"GS08 version are read from the wrong place)",
                gs,
            )
        self.group = _GroupBuilder(gs)

    def open_set(self, group: _GroupBuilder, st: Segment) -> None:
        if not st.get(1) or not st.get(2):
            raise X12Error(
                ErrorCode.SEGMENT_MALFORMED,
                "ST needs ST01 (transaction set id) and ST02 (control number)",
                st.index,
                "ST",
            )
        self.tset = _SetBuilder(st, group.gs.get(8) or "")

    def close_set(self, group: _GroupBuilder, builder: _SetBuilder, se: Segment) -> None:
        actual = len(builder.body) + 2
        declared = _count(se, 1)
        if declared != actual:
            self.problem(
                ErrorCode.SE_COUNT_MISMATCH,
                f"SE01 says {se.raw(1)!r} segments but transaction set "
                f"{builder.st.get(2)} has {actual} (ST..SE inclusive)",
                se,
            )
        if not _same_control(se.raw(2), builder.st.raw(2)):
            self.problem(
                ErrorCode.SE_CONTROL_MISMATCH,
                f"SE02 {se.raw(2)!r} does not match ST02 {builder.st.raw(2)!r}",
                se,
            )
        group.sets.append(builder.build())
        self.tset = None

    def close_group(self, builder: _GroupBuilder, ge: Segment) -> None:
        if _count(ge, 1) != len(builder.sets):
            self.problem(
                ErrorCode.GE_COUNT_MISMATCH,
                f"GE01 says {ge.raw(1)!r} transaction sets but group {builder.gs.get(6)} "
                f"has {len(builder.sets)}",
                ge,
            )
        if not _same_control(ge.raw(2), builder.gs.raw(6)):
            self.problem(
                ErrorCode.GE_CONTROL_MISMATCH,
                f"GE02 {ge.raw(2)!r} does not match GS06 {builder.gs.raw(6)!r}",
                ge,
            )
        self.groups.append(builder.build())
        self.group = None

    def close(self, isa: IsaHeader, iea: Segment) -> Interchange:
        if _count(iea, 1) != len(self.groups):
            self.problem(
                ErrorCode.IEA_COUNT_MISMATCH,
                f"IEA01 says {iea.raw(1)!r} functional groups but the interchange has "
                f"{len(self.groups)}",
                iea,
            )
        if not _same_control(iea.raw(2), isa.get(13)):
            self.problem(
                ErrorCode.IEA_CONTROL_MISMATCH,
                f"IEA02 {iea.raw(2)!r} does not match ISA13 {isa.get(13)!r}",
                iea,
            )
        return Interchange(
            delimiters=isa.delimiters,
            sender_qualifier=isa.get(5).strip(),
            sender_id=isa.get(6).strip(),
            receiver_qualifier=isa.get(7).strip(),
            receiver_id=isa.get(8).strip(),
            date=isa.get(9).strip(),
            time=isa.get(10).strip(),
            version=isa.get(12).strip(),
            control_number=isa.get(13).strip(),
            acknowledgment_requested=isa.get(14).strip(),
            usage=isa.get(15).strip(),
            groups=tuple(self.groups),
            acknowledgments=tuple(self.acknowledgments),
            issues=tuple(self.issues),
        )


def _reject_non_x12(text: str, pos: int) -> X12Error:
    if pos >= len(text):
        return X12Error(ErrorCode.NOT_X12, "the input is empty")
    head = text[pos : pos + 3]
    if head[:2] in ("GS", "ST") and len(head) == 3 and not head[2].isalnum():
        return X12Error(
            ErrorCode.MISSING_ENVELOPE,
            f"the input starts with {head[:2]}: a bare group or transaction set without the ISA "
            "interchange header (the separators cannot be known without it)",
            0,
            head[:2],
        )
    shown = text[pos : pos + 20]
    return X12Error(ErrorCode.NOT_X12, f"the input does not start with an ISA segment: {shown!r}")


def parse_interchanges(data: str | bytes, *, strict: bool = True) -> tuple[Interchange, ...]:
    """Every interchange in ``data`` (files may concatenate several, each with its own ISA)."""
    text = decode(data)
    pos = skip_blank(text, 0)
    if not text.startswith("ISA", pos):
        raise _reject_non_x12(text, pos)
    interchanges: list[Interchange] = []
    index = 0
    while pos < len(text):
        interchange, pos, index = _InterchangeParser(text, pos, index, strict=strict).run()
        interchanges.append(interchange)
        pos = skip_blank(text, pos)
        if pos < len(text) and not text.startswith("ISA", pos):
            shown = text[pos : pos + 20]
            raise X12Error(
                ErrorCode.UNEXPECTED_SEGMENT, f"data after IEA: {shown!r}", index, shown[:3]
            )
    return tuple(interchanges)


def parse_interchange(data: str | bytes, *, strict: bool = True) -> Interchange:
    """The one interchange in ``data``; a file holding several is rejected."""
    interchanges = parse_interchanges(data, strict=strict)
    if len(interchanges) != 1:
        raise X12Error(
            ErrorCode.UNEXPECTED_SEGMENT,
            f"the input holds {len(interchanges)} interchanges; use parse_interchanges()",
        )
    return interchanges[0]
