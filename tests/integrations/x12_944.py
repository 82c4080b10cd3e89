"""944 files written by hand, the way a warehouse sends them (X12 004010: ISA/GS RE/ST 944,
W17, N1, N9, G62, then LX + W07 + G69 + N9 per item, W14). There is no 944 in the shared
corpus; the envelope imitates its 940/945 files (fixed-width ISA, `*` elements, `~` segments)."""

from __future__ import annotations

ISA_DATE, ISA_TIME = "261105", "1405"


def isa(sender: str, receiver: str, control: int) -> str:
    return (
        f"ISA*00*{'':10}*00*{'':10}*ZZ*{sender:<15}*ZZ*{receiver:<15}*{ISA_DATE}*{ISA_TIME}"
        f"*U*00401*{control:09d}*0*P*>~"
    )


def w07_loop(
    number: int,
    quantity: str,
    sku: str,
    *,
    unit: str = "EA",
    upc: str = "",
    description: str = "",
    extra: tuple[str, ...] = (),
) -> list[str]:
    ids = f"SK*{sku}" + (f"*UP*{upc}" if upc else "")
    segments = [f"LX*{number}", f"W07*{quantity}*{unit}**{ids}"]
    if description:
        segments.append(f"G69*{description}")
    segments.append(f"N9*LI*{number}")
    return [*segments, *extra]


def x12_944(
    rma_number: str,
    loops: list[list[str]],
    *,
    control: int = 944,
    receipt_number: str = "WR-1001",
    sender: str = "DC-3PL",
    receiver: str = "OMS",
    received_on: str = "20261105",
    total: str | None = None,
    set_control: str = "0001",
) -> str:
    """One interchange with one RE group and one 944 of the given W07 loops."""
    body = [
        f"ST*944*{set_control}",
        f"W17*C*{received_on}*{receipt_number}*{rma_number}",
        f"N1*WH*3PL Columbus*ZZ*{sender}",
        "N3*100 Logistics Pkwy",
        "N4*Columbus*OH*43217*US",
        f"N9*RZ*{rma_number}",
        f"G62*09*{received_on}",
    ]
    for loop in loops:
        body += loop
    if total is not None:
        body.append(f"W14*{total}")
    body.append(f"SE*{len(body) + 1}*{set_control}")
    segments = [
        isa(sender, receiver, control),
        f"GS*RE*{sender}*{receiver}*{received_on}*{ISA_TIME}*{control}*X*004010~",
        *(f"{segment}~" for segment in body),
        f"GE*1*{control}~",
        f"IEA*1*{control:09d}~",
    ]
    return "\n".join(segments) + "\n"
