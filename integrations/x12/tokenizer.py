"""From text to segments: delimiter detection from the ISA header, then segment splitting.

The ISA header is fixed width (106 characters with its terminator): the element separator is the
character right after ``ISA``, the component separator is ISA16 and the segment terminator is the
character right after ISA16. Rather than trusting positions 3/104/105 blindly, the header is read
by counting its 16 element separators, so an ISA whose fields were not padded is still understood;
the fixed-width rule is then checked separately (``strict`` parsing rejects a violation, lenient
parsing records it as an issue).

Carriage returns and line feeds are never X12 data: wherever they are not the terminator itself
they are dropped (files are routinely wrapped or pretty-printed with one segment per line and
indentation). Leading spaces and tabs of a segment are dropped too, and so are trailing empty
elements/components (``W01*1*EA***`` reads as ``W01*1*EA``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from integrations.x12.errors import ErrorCode, X12Error

ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
ISA_LENGTH = 106  # "ISA" + 16 separators + the field widths + the terminator
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}")
_LINE_BREAKS = "\r\n"
_SKIPPABLE = " \t\r\n\ufeff\x1a"  # whitespace, byte-order marks and DOS end-of-file between files


@dataclass(frozen=True, slots=True)
class Delimiters:
    element: str = "*"
    component: str = ">"
    segment: str = "~"
    repetition: str | None = None  # ISA11 from version 00402 on (e.g. "^"), else None


@dataclass(frozen=True, slots=True)
class Segment:
    """One segment: its id and its data elements (``elements[0]`` is element 01)."""

    id: str
    elements: tuple[str, ...] = ()
    index: int = field(default=-1, compare=False)  # position in the file, ISA = 0
    component_separator: str = field(default=">", compare=False, repr=False)

    def raw(self, position: int) -> str:
        """Element ``position`` (1-based, as in ``W05-02``) exactly as sent; "" when absent."""
        if 1 <= position <= len(self.elements):
            return self.elements[position - 1]
        return ""

    def get(self, position: int) -> str | None:
        """Element ``position`` (1-based) with surrounding blanks removed; None when empty."""
        return self.raw(position).strip() or None

    def components(self, position: int) -> tuple[str, ...]:
        """The components of a composite element (``()`` when absent)."""
        value = self.raw(position)
        return tuple(value.split(self.component_separator)) if value else ()

    def __str__(self) -> str:
        return "*".join((self.id, *self.elements))


@dataclass(frozen=True, slots=True)
class IsaHeader:
    elements: tuple[str, ...]  # ISA01..ISA16, as sent
    delimiters: Delimiters
    end: int  # offset just past the ISA terminator
    width_problem: str | None  # why the header is not fixed width, if it is not

    def get(self, position: int) -> str:
        return self.elements[position - 1]


def decode(data: str | bytes) -> str:
    """Bytes to text: UTF-8 (with or without BOM), falling back to Latin-1 for legacy files."""
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def skip_blank(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _SKIPPABLE:
        pos += 1
    return pos


def _isa_error(message: str, index: int) -> X12Error:
    return X12Error(ErrorCode.ISA_MALFORMED, message, index, "ISA")


def read_isa(text: str, start: int, index: int) -> IsaHeader:
    """Read the ISA header starting at ``text[start]`` (which must be "ISA")."""
    if start + 4 > len(text):
        raise _isa_error("the input ends inside the ISA header", index)
    element = text[start + 3]
    if element.isalnum() or element.isspace():
        raise _isa_error(f"ISA is not followed by an element separator (got {element!r})", index)
    chars: list[str] = []
    count = 0
    pos = start
    while pos < len(text) and count < 16:
        char = text[pos]
        pos += 1
        if char in _LINE_BREAKS:  # a header wrapped over two lines
            continue
        if char == element:
            count += 1
        chars.append(char)
    if count < 16:
        raise _isa_error(f"ISA has {count} of its 16 elements: the input is truncated", index)
    if pos >= len(text) or text[pos] in _LINE_BREAKS:
        raise _isa_error("ISA16 (component element separator) is missing", index)
    component = text[pos]
    chars.append(component)
    pos += 1
    if pos >= len(text):
        raise _isa_error("no segment terminator after ISA16", index)
    terminator = text[pos]
    pos += 1
    if component == element or component.isalnum() or component.isspace():
        raise _isa_error(f"ISA16 {component!r} cannot be a component separator", index)
    if terminator in (element, component) or terminator.isalnum() or terminator in " \t":
        raise _isa_error(f"{terminator!r} after ISA16 cannot be a segment terminator", index)
    elements = tuple("".join(chars).split(element)[1:])
    version = elements[11]
    repetition = elements[10]
    has_repetition = version.isdigit() and version >= "00402" and not repetition.isalnum()
    delimiters = Delimiters(
        element=element,
        component=component,
        segment=terminator,
        repetition=repetition if has_repetition and not repetition.isspace() else None,
    )
    return IsaHeader(elements, delimiters, pos, _width_problem(elements))


def _width_problem(elements: tuple[str, ...]) -> str | None:
    wrong = [
        f"ISA{n:02d} is {len(value)} characters, not {width}"
        for n, (value, width) in enumerate(zip(elements, ISA_WIDTHS, strict=True), start=1)
        if len(value) != width
    ]
    for n in (9, 10, 13):  # date, time, control number
        if not elements[n - 1].isdigit():
            wrong.append(f"ISA{n:02d} {elements[n - 1]!r} is not numeric")
    if not wrong:
        return None
    return "ISA is not the fixed-width 106-character header: " + "; ".join(wrong)


def _clean(piece: str, delimiters: Delimiters) -> str:
    if "\r" in piece or "\n" in piece:
        piece = piece.replace("\r", "").replace("\n", "")
    piece = piece.lstrip(" \t\ufeff")
    if not piece.strip():
        return ""
    trailing = (delimiters.element, delimiters.component)
    while piece and piece[-1] in trailing:
        piece = piece[:-1]
    return piece


def raw_segments(text: str, pos: int, delimiters: Delimiters) -> Iterator[tuple[str, int]]:
    """Yield ``(segment text, offset just past its terminator)`` from ``pos`` on."""
    terminator = delimiters.segment
    while pos < len(text):
        found = text.find(terminator, pos)
        end = len(text) if found == -1 else found
        piece = _clean(text[pos:end], delimiters)
        pos = end + len(terminator) if found != -1 else len(text)
        if piece:
            yield piece, pos


def make_segment(raw: str, index: int, delimiters: Delimiters) -> Segment:
    parts = raw.split(delimiters.element)
    segment_id = parts[0].strip()
    if not _SEGMENT_ID.fullmatch(segment_id):
        shown = raw if len(raw) <= 40 else raw[:40] + "..."
        raise X12Error(
            ErrorCode.SEGMENT_MALFORMED,
            f"{shown!r} does not start with a segment id (2-3 upper-case letters or digits)",
            index,
        )
    return Segment(segment_id, tuple(parts[1:]), index, delimiters.component)
