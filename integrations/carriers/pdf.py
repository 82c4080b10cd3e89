"""A 4x6 in shipping label as a single-page PDF 1.4, written by hand (no PDF dependency).

The page holds the sender, the recipient, the service, the parcel line, a Code 128 (code set B)
barcode of the tracking number drawn as filled rectangles, and the number in clear text. Text is
uncompressed WinAnsi with the standard Helvetica fonts, so every PDF reader opens it and the
tracking number can be found in the bytes. The output is deterministic: no dates, no ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

PAGE_WIDTH, PAGE_HEIGHT = 288, 432  # points: 4 x 6 inches

# Code 128 symbol widths (bar, space, bar, space, bar, space) for values 0..105; 106 is STOP.
CODE128_PATTERNS: tuple[str, ...] = (
    "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212",
    "221213", "221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221",
    "223211", "221132", "221231", "213212", "223112", "312131", "311222", "321122", "321221",
    "312212", "322112", "322211", "212123", "212321", "232121", "111323", "131123", "131321",
    "112313", "132113", "132311", "211313", "231113", "231311", "112133", "112331", "132131",
    "113123", "113321", "133121", "313121", "211331", "231131", "213113", "213311", "213131",
    "311123", "311321", "331121", "312113", "312311", "332111", "314111", "221411", "431111",
    "111224", "111422", "121124", "121421", "141122", "141221", "112214", "112412", "122114",
    "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111", "111242",
    "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
    "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311",
    "113141", "114131", "311141", "411131", "211412", "211214", "211232", "2331112",
)  # fmt: skip
START_B, STOP = 104, 106
QUIET_MODULES = 10


def code128_values(text: str) -> list[int]:
    """Start B, one value per character (ASCII 32..126), the mod-103 check value, stop."""
    if not text or any(not 32 <= ord(ch) <= 126 for ch in text):
        raise ValueError("Code 128 B encodes printable ASCII only")
    data = [ord(ch) - 32 for ch in text]
    check = (START_B + sum(position * value for position, value in enumerate(data, 1))) % 103
    return [START_B, *data, check, STOP]


def code128_bars(text: str) -> tuple[list[tuple[int, int]], int]:
    """The bars as (first module, width in modules) and the total width including quiet zones."""
    bars: list[tuple[int, int]] = []
    cursor = QUIET_MODULES
    for value in code128_values(text):
        for index, width in enumerate(int(w) for w in CODE128_PATTERNS[value]):
            if index % 2 == 0:
                bars.append((cursor, width))
            cursor += width
    return bars, cursor + QUIET_MODULES


def _pdf_text(text: str, limit: int = 44) -> str:
    text = text if len(text) <= limit else text[: limit - 1] + "~"
    encoded = text.encode("cp1252", errors="replace").decode("latin-1")
    return encoded.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _text(x: float, y: float, font: str, size: float, text: str) -> str:
    return f"BT /{font} {size} Tf {x:.2f} {y:.2f} Td ({_pdf_text(text)}) Tj ET"


@dataclass(frozen=True, slots=True)
class LabelContent:
    carrier_name: str
    service: str
    tracking_number: str
    ship_from: Sequence[str]
    ship_to: Sequence[str]
    parcel_line: str
    reference: str


def _content_stream(label: LabelContent) -> bytes:
    ops = ["0 g 0 G 0.8 w", f"9 9 {PAGE_WIDTH - 18} {PAGE_HEIGHT - 18} re S"]
    ops.append(_text(18, 408, "F2", 11, label.carrier_name.upper()))
    ops.append(_text(18, 392, "F1", 7, "FROM:"))
    for row, line in enumerate(label.ship_from[:5]):
        ops.append(_text(42, 392 - row * 9, "F1", 8, line))
    ops.append(f"9 340 m {PAGE_WIDTH - 9} 340 l S")
    ops.append(_text(18, 326, "F1", 7, "SHIP TO:"))
    for row, line in enumerate(label.ship_to[:5]):
        ops.append(_text(30, 310 - row * 15, "F2", 12, line))
    ops.append(f"9 228 m {PAGE_WIDTH - 9} 228 l S")
    ops.append(_text(18, 206, "F2", 16, label.service))
    ops.append(_text(18, 190, "F1", 9, label.parcel_line))
    ops.append(_text(18, 178, "F1", 9, f"Ref: {label.reference}"))
    bars, total = code128_bars(label.tracking_number)
    module = min(1.2, (PAGE_WIDTH - 36) / total)
    left = (PAGE_WIDTH - total * module) / 2
    ops.extend(
        f"{left + start * module:.3f} 92 {width * module:.3f} 72 re f" for start, width in bars
    )
    number_width = 0.6 * 12 * len(label.tracking_number)
    ops.append(_text((PAGE_WIDTH - number_width) / 2, 74, "F2", 12, label.tracking_number))
    ops.append(_text(18, 18, "F1", 6, "SIMULATED LABEL - NOT VALID FOR SHIPPING"))
    return ("\n".join(ops) + "\n").encode("latin-1")


def render_label_pdf(label: LabelContent) -> bytes:
    """One page, six objects, a correct xref table: bytes from `%PDF-1.4` to `%%EOF`."""
    stream = _content_stream(label)
    font = "<< /Type /Font /Subtype /Type1 /BaseFont /{} /Encoding /WinAnsiEncoding >>"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] "
            "/Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> /Contents 4 0 R >>"
        ).encode("ascii"),
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream",
        font.format("Helvetica").encode("ascii"),
        font.format("Helvetica-Bold").encode("ascii"),
        f"<< /Title ({_pdf_text('Label ' + label.tracking_number)}) /Producer (oms) >>".encode(
            "latin-1"
        ),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 7 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)
