"""A 3PL's stock report: the X12 846 dropped in the inbox and imported through the real inbox
path (fulfillment/x12/inbox.py → fulfillment/x12/stock.py → the inventory snapshot feed), on
PostgreSQL. The corpus's two 846s (an EMS supplier's advices) are refused with a code."""

import os
import shutil
import time

import pytest

from fulfillment.tasks import import_x12_inbox_task
from fulfillment.x12.inbox import import_945_file
from integrations.inbound import reprocess_message
from integrations.models import InboundMessage
from integrations.x12 import read_846s
from inventory.models import InventoryMovement, StockLevel
from inventory.selectors import find_ledger_mismatches
from oms.core.actors import Actor
from tests.corpus import corpus
from tests.factories.inventory import NodeFactory, ProductFactory, stocked
from tests.integrations.x12_944 import isa

pytestmark = pytest.mark.django_db

CORPUS_846 = "edi/x12_846__oopfactory_example1.edi"


def x12_846(
    items: list[list[str]],
    *,
    control: int = 846,
    reference: str = "INV-20261206",
    date: str = "20261206",
    time: str = "0600",
    sender: str = "DC-3PL",
) -> str:
    """One interchange with one IB group and one 846 of the given LIN loops."""
    body = ["ST*846*0001", f"BIA*00*DD*{reference}*{date}*{time}", "N1*WH*3PL Columbus*ZZ*DC-3PL"]
    for item in items:
        body += item
    body.append(f"CTT*{len(items)}")
    body.append(f"SE*{len(body) + 1}*0001")
    segments = [
        isa(sender, "OMS", control),
        f"GS*IB*{sender}*OMS*{date}*{time}*{control}*X*004010~",
        *(f"{segment}~" for segment in body),
        f"GE*1*{control}~",
        f"IEA*1*{control:09d}~",
    ]
    return "\n".join(segments) + "\n"


def drop(inbox, name: str, text: str, *, settled: bool = False):
    path = inbox / name
    path.write_text(text)
    if settled:  # older than the scheduled scan's settle time
        os.utime(path, (time.time() - 120, time.time() - 120))
    return path


def on_hand(node, sku: str) -> int:
    return StockLevel.objects.get(node=node, product__sku=sku).on_hand


def test_an_846_sets_the_3pls_on_hand_like_a_snapshot_feed(x12_node, x12_dirs):
    # given: TEE, MUG (by its barcode) and CAP stocked at the 3PL
    tee, mug = ProductFactory(sku="TEE"), ProductFactory(sku="MUG", upc="012345678905")
    cap = ProductFactory(sku="CAP")
    for product in (tee, mug, cap):
        stocked(x12_node, product, on_hand=5)
    text = x12_846(
        [
            ["LIN*1*SK*tee", "PID*F****Organic Tee", "QTY*17*8", "UIT*EA"],
            ["LIN*2*UP*012345678905*BP*B-77", "QTY*QH*1*EA", "QTY*17*2*EA"],
            ["LIN*3*SK*TEE", "QTY*33*1*EA"],  # another lot of TEE: counts add up
        ]
    )

    # when: the scheduled inbox task picks the file up
    drop(x12_dirs.inbox, "846-0001.edi", text, settled=True)
    counts = import_x12_inbox_task.delay().get()

    # then: the node's counts are the 846's; CAP, not listed, counts 0; all in the ledger
    assert counts == {"files": 1, "applied": 1, "duplicates": 0, "errors": 0}
    assert (on_hand(x12_node, "TEE"), on_hand(x12_node, "MUG"), on_hand(x12_node, "CAP")) == (
        9,
        2,
        0,
    )
    assert find_ledger_mismatches() == []
    assert InventoryMovement.objects.filter(node=x12_node, reason="snapshot").count() == 3
    message = InboundMessage.objects.get(source="x12:dc-3pl", kind="inventory.snapshot")
    assert (message.message_id, message.status) == ("000000846-846-0001", "processed")
    assert (x12_dirs.inbox / "processed" / "846-0001.edi").is_file()

    # when: the same 846 again, under another file name
    again = import_945_file(drop(x12_dirs.inbox, "846-again.edi", text))

    # then: one effect
    assert [(a.transaction_set, a.outcome) for a in again.advices] == [("846", "duplicate")]
    assert on_hand(x12_node, "TEE") == 9


def test_an_older_846_than_the_last_count_is_ignored(x12_node, x12_dirs):
    tee = ProductFactory(sku="TEE")
    stocked(x12_node, tee, on_hand=5)
    newer = x12_846([["LIN*1*SK*TEE", "QTY*17*7*EA"]], control=1, time="0900")
    older = x12_846([["LIN*1*SK*TEE", "QTY*17*3*EA"]], control=2, time="0600")

    first = import_945_file(drop(x12_dirs.inbox, "846-newer.edi", newer))
    second = import_945_file(drop(x12_dirs.inbox, "846-older.edi", older))

    assert [a.outcome for a in first.advices + second.advices] == ["counted", "ignored_stale"]
    assert on_hand(x12_node, "TEE") == 7


@pytest.mark.parametrize(
    ("item", "code"),
    [
        (["LIN*1*SK*TEE", "QTY*17*12*CA"], "unsupported_unit"),
        (["LIN*1*SK*TEE", "QTY*17*1.5*EA"], "invalid_quantity"),
        (["LIN*1*SK*TEE", "QTY*QH*1*EA"], "no_on_hand_quantity"),
        (["LIN*1*BP*B-77", "QTY*17*1*EA"], "unknown_item"),
    ],
)
def test_an_846_that_cannot_be_counted_is_refused_whole(x12_node, x12_dirs, item, code):
    tee = ProductFactory(sku="TEE")
    stocked(x12_node, tee, on_hand=5)

    result = import_945_file(drop(x12_dirs.inbox, "846.edi", x12_846([item])))

    assert result.status == "failed"
    assert [(a.transaction_set, a.outcome, a.error_code) for a in result.advices] == [
        ("846", "failed", code)
    ]
    assert InboundMessage.objects.get(kind="x12.846").error_code == code
    assert on_hand(x12_node, "TEE") == 5


def test_an_unknown_sku_is_kept_by_the_feed_and_applied_once_the_product_exists(x12_node, x12_dirs):
    # given: the 3PL counts a SKU oms does not know yet
    tee = ProductFactory(sku="TEE")
    stocked(x12_node, tee, on_hand=5)
    text = x12_846([["LIN*1*SK*TEE", "QTY*17*4*EA"], ["LIN*2*SK*NEW-1", "QTY*17*6*EA"]])

    # when
    result = import_945_file(drop(x12_dirs.inbox, "846.edi", text))

    # then: refused whole, kept as a failed snapshot a person can re-process
    assert [(a.outcome, a.error_code) for a in result.advices] == [("failed", "unknown_sku")]
    kept = InboundMessage.objects.get(kind="inventory.snapshot")
    assert kept.status == "failed"
    assert on_hand(x12_node, "TEE") == 5

    # when: the product is created, and the snapshot re-processed from the console
    ProductFactory(sku="NEW-1")
    reprocess_message(message_id=kept.pk, actor=Actor.system("test"))

    # then
    assert (on_hand(x12_node, "TEE"), on_hand(x12_node, "NEW-1")) == (4, 6)


def test_the_corpus_846_is_read_and_refused_with_a_code(x12_dirs):
    # given: the corpus 846 comes from ISA sender 322341109; make it a node's partner id
    node = NodeFactory(
        code="ems-plant",
        connector="x12_file",
        connector_settings={"sender_id": "OMS", "receiver_id": "322341109"},
    )
    source = corpus(CORPUS_846)
    (advice,) = read_846s(source.read_bytes())
    assert (advice.reference, len(advice.items)) == ("10353", 1)
    assert [q.qualifier for q in advice.items[0].quantities] == ["34", "QH", "QB", "87"]

    # when
    result = import_945_file(shutil.copy(source, x12_dirs.inbox / "846-corpus.edi"))

    # then: its item is named by buyer's and manufacturer's part numbers only: no oms item
    assert [(a.transaction_set, a.outcome, a.error_code) for a in result.advices] == [
        ("846", "failed", "unknown_item")
    ]
    assert InboundMessage.objects.get(kind="x12.846").source == f"x12:{node.code}"
