"""ANSI X12 EDI for warehouse integrations: envelope parser, typed 940/944/945/856 readers,
940/945 writers, and the 810 invoice (writer and reader) the ERP connector sends. Pure Python, no
Django: see docs/x12.md.

    interchange = parse_interchange(data)            # strict envelope, X12Error on any problem
    for ts in interchange.transaction_sets:
        advice = read_945(ts)                         # unsupported_transaction_set if not a 945
    text = write_940(order, sender_id=..., receiver_id=..., control_number=..., now=...)
"""

from __future__ import annotations

from collections.abc import Callable

from integrations.x12.common import (
    Carrier,
    ItemId,
    Note,
    Party,
    QualifiedDate,
    Reference,
)
from integrations.x12.envelope import (
    FunctionalGroup,
    Interchange,
    TransactionSet,
    parse_interchange,
    parse_interchanges,
)
from integrations.x12.errors import TOLERABLE_CODES, ErrorCode, X12Error, X12Issue
from integrations.x12.invoice_810 import Invoice, InvoiceLine, read_810, write_810
from integrations.x12.read_846 import InventoryAdvice, InventoryItem, StockQuantity, read_846
from integrations.x12.read_856 import ShipNotice, ShipNoticeItem, ShipNoticeOrder, read_856
from integrations.x12.read_940 import ShippingOrderLine, WarehouseShippingOrder, read_940
from integrations.x12.read_944 import (
    ReceiptException,
    ReceiptLine,
    WarehouseReceiptAdvice,
    read_944,
)
from integrations.x12.read_945 import (
    Package,
    ShipmentAdviceLine,
    WarehouseShippingAdvice,
    read_945,
)
from integrations.x12.tokenizer import Delimiters, Segment
from integrations.x12.write import write_940, write_945

Source = str | bytes | Interchange

SUPPORTED_TRANSACTION_SETS = ("940", "944", "945", "856", "846")


def _read_all[T](
    source: Source, reader: Callable[[TransactionSet], T], *, strict: bool
) -> tuple[T, ...]:
    interchanges = (
        (source,) if isinstance(source, Interchange) else parse_interchanges(source, strict=strict)
    )
    return tuple(reader(ts) for interchange in interchanges for ts in interchange.transaction_sets)


def read_940s(source: Source, *, strict: bool = True) -> tuple[WarehouseShippingOrder, ...]:
    """Every 940 in the file (or interchange); any other transaction set is an X12Error."""
    return _read_all(source, read_940, strict=strict)


def read_945s(source: Source, *, strict: bool = True) -> tuple[WarehouseShippingAdvice, ...]:
    return _read_all(source, read_945, strict=strict)


def read_944s(source: Source, *, strict: bool = True) -> tuple[WarehouseReceiptAdvice, ...]:
    return _read_all(source, read_944, strict=strict)


def read_856s(source: Source, *, strict: bool = True) -> tuple[ShipNotice, ...]:
    return _read_all(source, read_856, strict=strict)


def read_846s(source: Source, *, strict: bool = True) -> tuple[InventoryAdvice, ...]:
    return _read_all(source, read_846, strict=strict)


def read_document(
    ts: TransactionSet,
) -> (
    WarehouseShippingOrder
    | WarehouseReceiptAdvice
    | WarehouseShippingAdvice
    | ShipNotice
    | InventoryAdvice
):
    """The typed reading of a 940, 944, 945, 856 or 846; ``unsupported_transaction_set`` for
    others."""
    if ts.id == "940":
        return read_940(ts)
    if ts.id == "944":
        return read_944(ts)
    if ts.id == "945":
        return read_945(ts)
    if ts.id == "856":
        return read_856(ts)
    if ts.id == "846":
        return read_846(ts)
    raise X12Error(
        ErrorCode.UNSUPPORTED_TRANSACTION_SET,
        f"no typed reader for transaction set {ts.id} (supported: 940, 944, 945, 856, 846)",
        ts.index,
        "ST",
    )


__all__ = [
    "SUPPORTED_TRANSACTION_SETS",
    "TOLERABLE_CODES",
    "Carrier",
    "Delimiters",
    "ErrorCode",
    "FunctionalGroup",
    "Interchange",
    "InventoryAdvice",
    "InventoryItem",
    "Invoice",
    "InvoiceLine",
    "ItemId",
    "Note",
    "Package",
    "Party",
    "QualifiedDate",
    "ReceiptException",
    "ReceiptLine",
    "Reference",
    "Segment",
    "ShipNotice",
    "ShipNoticeItem",
    "ShipNoticeOrder",
    "ShipmentAdviceLine",
    "ShippingOrderLine",
    "StockQuantity",
    "TransactionSet",
    "WarehouseReceiptAdvice",
    "WarehouseShippingAdvice",
    "WarehouseShippingOrder",
    "X12Error",
    "X12Issue",
    "parse_interchange",
    "parse_interchanges",
    "read_856",
    "read_810",
    "read_846",
    "read_846s",
    "read_856s",
    "read_940",
    "read_940s",
    "read_944",
    "read_944s",
    "read_945",
    "read_945s",
    "read_document",
    "write_940",
    "write_810",
    "write_945",
]
