"""The 944 Warehouse Stock Transfer Receipt Advice reader (no database), on 944s written by hand
after the X12 004010 layout (tests/integrations/x12_944.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from integrations.x12 import (
    ErrorCode,
    ItemId,
    Party,
    QualifiedDate,
    ReceiptException,
    ReceiptLine,
    Reference,
    WarehouseReceiptAdvice,
    X12Error,
    parse_interchange,
    read_944,
    read_944s,
    read_945,
    read_document,
)
from tests.integrations.x12_944 import w07_loop, x12_944


def test_a_customer_return_receipt_reads_in_full():
    # given
    text = x12_944(
        "RMA-000042",
        [
            w07_loop(1, "2", "TEE", upc="012345678905", description="Classic tee"),
            w07_loop(
                2,
                "1",
                "MUG",
                extra=("W13*1*EA*01*LOT9*AD", "W20*1*EA*2.5*N*LB"),
            ),
        ],
        total="3",
    )

    # when
    (advice,) = read_944s(text)

    # then
    assert advice == WarehouseReceiptAdvice(
        reporting_code="C",
        received_on=dt.date(2026, 11, 5),
        receipt_number="WR-1001",
        depositor_order_number="RMA-000042",
        ship_from=Party(
            role="WH",
            name="3PL Columbus",
            id_qualifier="ZZ",
            id="DC-3PL",
            address_lines=("100 Logistics Pkwy",),
            city="Columbus",
            state="OH",
            postal_code="43217",
            country="US",
        ),
        references=(Reference("RZ", "RMA-000042"),),
        dates=(QualifiedDate("09", dt.date(2026, 11, 5)),),
        lines=(
            ReceiptLine(
                line_number="1",
                quantity_received=Decimal(2),
                unit="EA",
                item_ids=(ItemId("SK", "TEE"), ItemId("UP", "012345678905")),
                description="Classic tee",
                references=(Reference("LI", "1"),),
            ),
            ReceiptLine(
                line_number="2",
                quantity_received=Decimal(1),
                unit="EA",
                item_ids=(ItemId("SK", "MUG"),),
                references=(Reference("LI", "2"),),
                exceptions=(ReceiptException(Decimal(1), "EA", "01", "LOT9", "AD"),),
                unknown_segments=advice.lines[1].unknown_segments,
            ),
        ),
        total_quantity_received=Decimal(3),
    )
    assert [s.id for s in advice.lines[1].unknown_segments] == ["W20"]  # kept, in order
    assert advice.is_customer_return
    assert advice.lines[0].sku == "TEE"
    assert advice.lines[0].upc == "012345678905"
    assert advice.reference("RZ") == "RMA-000042"


def test_w07_without_lx_and_every_item_pair():
    # given: 004010 lets the detail loop start at W07; W07-03 UPC case code, W07-10/11 a third id
    text = x12_944(
        "RMA-7",
        [["W07*4*EA*001234567890*VN*V-1*SK*TEE*LOT1*A*BP*B-9"], ["W07*1*EA**SK*MUG"]],
    )

    # when
    advice = read_document(parse_interchange(text).transaction_sets[0])

    # then
    assert isinstance(advice, WarehouseReceiptAdvice)
    first, second = advice.lines
    assert (first.line_number, first.quantity_received, first.upc_case_code) == (
        None,
        Decimal(4),
        "001234567890",
    )
    assert first.item_ids == (ItemId("VN", "V-1"), ItemId("SK", "TEE"), ItemId("BP", "B-9"))
    assert (first.sku, first.buyer_item, first.lot_number, first.adjustment) == (
        "TEE",
        "B-9",
        "LOT1",
        "A",
    )
    assert second.sku == "MUG"
    assert advice.total_quantity_received is None


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        ("W17*C*20261105*WR-1001*RMA-1~", "", ErrorCode.MISSING_SEGMENT),  # no W17
        ("W17*C*20261105*WR-1001*", "W17*C*20261105**", ErrorCode.MISSING_SEGMENT),  # no W17-03
        ("W17*C*20261105*", "W17*C*20261341*", ErrorCode.INVALID_VALUE),  # no such date
        ("W07*2*EA", "W07*two*EA", ErrorCode.INVALID_VALUE),
        ("W07*2*EA", "W07**EA", ErrorCode.INVALID_VALUE),  # W07-01 is mandatory
    ],
)
def test_reader_errors_have_their_code(old, new, code):
    # given
    text = x12_944("RMA-1", [w07_loop(1, "2", "TEE")])
    assert old in text
    broken = text.replace(old, new)
    if not new:  # a segment removed: SE01 counts one less
        broken = broken.replace("SE*11*", "SE*10*")
    ts = parse_interchange(broken).transaction_sets[0]

    # when
    with pytest.raises(X12Error) as caught:
        read_944(ts)

    # then
    assert caught.value.code == code


def test_an_lx_without_w07_is_refused():
    ts = parse_interchange(x12_944("RMA-1", [["LX*1", "G69*nothing"]])).transaction_sets[0]

    with pytest.raises(X12Error) as caught:
        read_944(ts)

    assert caught.value.code == ErrorCode.MISSING_SEGMENT
    assert "W07" in caught.value.message


def test_other_readers_refuse_a_944_and_read_944_refuses_others():
    ts = parse_interchange(x12_944("RMA-1", [w07_loop(1, "2", "TEE")])).transaction_sets[0]

    with pytest.raises(X12Error) as caught:
        read_945(ts)

    assert caught.value.code == ErrorCode.UNSUPPORTED_TRANSACTION_SET
    other = parse_interchange(
        x12_944("RMA-1", [w07_loop(1, "2", "TEE")]).replace("ST*944", "ST*943")
    ).transaction_sets[0]
    with pytest.raises(X12Error) as caught:
        read_944(other)
    assert caught.value.code == ErrorCode.UNSUPPORTED_TRANSACTION_SET
