"""A return received at an X12 file node: the warehouse's 944 dropped in the X12 inbox and
imported through the real inbox path (fulfillment/x12/inbox.py → returns/x12.py →
receive_return), on PostgreSQL. Then inspection and refund go on as for an API receipt."""

import os
import shutil
import time
from decimal import Decimal

import pytest
from django.urls import reverse

from fulfillment.tasks import import_x12_inbox_task
from fulfillment.x12.inbox import import_945_file, import_x12_inbox
from integrations.inbound import reprocess_message
from integrations.models import InboundMessage
from inventory.models import NodeConnector, Product
from oms.events.models import Event
from returns.models import Return
from returns.policy import RequestedLine
from returns.services.receipt import inspect_return
from returns.services.requests import ReturnRequest, authorize_return, request_return
from tests.factories.inventory import NodeFactory
from tests.integrations.x12_944 import w07_loop, x12_944
from tests.returns.support import SYSTEM, ledger, shipped_order, stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def x12_dirs(settings, tmp_path):
    settings.OMS_X12_OUTBOX_DIR = tmp_path / "outbox"
    settings.OMS_X12_INBOX_DIR = tmp_path / "inbox"
    settings.OMS_X12_INBOX_DIR.mkdir()
    return settings.OMS_X12_INBOX_DIR


@pytest.fixture
def x12_dc(db):
    """A 3PL on the X12 file connector that takes returns; its ISA id is DC-3PL."""
    return NodeFactory(
        code="dc-3pl",
        name="3PL Columbus",
        connector=NodeConnector.X12_FILE,
        connector_settings={"sender_id": "OMS", "receiver_id": "DC-3PL", "version": "004010"},
        can_accept_returns=True,
        priority=50,
    )


def returned(nodes, x12_dc, *, external_id="X944", units=2, authorize=True) -> Return:
    """An order of 3 TEE at 20.00 shipped from the API DC; `units` of them coming back to the
    X12 DC."""
    order = shipped_order(nodes["dc"], external_id=external_id, lines=[("TEE", 3, "20.00")])
    rma = request_return(
        order_id=order.pk,
        request=ReturnRequest(
            lines=[RequestedLine(1, units, "size_fit", "unopened")], return_node_code="dc-3pl"
        ),
        actor=SYSTEM,
    )
    if authorize:
        authorize_return(return_id=rma.pk, actor=SYSTEM)
    rma.refresh_from_db()
    return rma


def drop(inbox, name: str, text: str, *, settled: bool = False):
    path = inbox / name
    path.write_text(text)
    if settled:  # older than the scheduled scan's settle time
        os.utime(path, (time.time() - 120, time.time() - 120))
    return path


def received_events(rma) -> int:
    return Event.objects.filter(stream=rma.order.stream, type="return.received").count()


def test_a_944_receives_the_return_then_inspection_restocks_and_refunds(
    nodes, x12_dc, x12_dirs, django_capture_on_commit_callbacks
):
    # given
    rma = returned(nodes, x12_dc)
    drop(
        x12_dirs,
        "944-0001.edi",
        x12_944(rma.number, [w07_loop(1, "2", "TEE", description="Tee")], total="2"),
        settled=True,
    )

    # when: the scheduled inbox task picks the file up
    counts = import_x12_inbox_task.delay().get()

    # then
    assert counts == {"files": 1, "applied": 1, "duplicates": 0, "errors": 0}
    rma.refresh_from_db()
    assert (rma.status, rma.received_node_id) == ("received", x12_dc.pk)
    assert [line.received_quantity for line in rma.lines.all()] == [2]
    message = InboundMessage.objects.get(kind="x12.944")
    assert (message.source, message.message_id, message.status, message.subject) == (
        "x12:dc-3pl",
        "000000944-944-0001",
        "processed",
        rma.number,
    )
    assert message.payload["lines"][0]["quantity"] == "2"
    assert (x12_dirs / "processed" / "944-0001.edi").is_file()
    event = Event.objects.get(stream=rma.order.stream, type="return.received")
    assert event.payload["node"] == "dc-3pl"
    assert event.payload["lines"] == [
        {"line_number": 1, "sku": "TEE", "expected": 2, "received": 2}
    ]

    # when: the warehouse's inspection, as for an API receipt
    with django_capture_on_commit_callbacks(execute=True):
        inspect_return(return_id=rma.pk, dispositions={1: {"restock": 2}}, actor=SYSTEM)

    # then
    rma.refresh_from_db()
    assert rma.status == "closed"
    assert rma.refunds.get().amount == Decimal("40.00")
    assert stock(x12_dc, "TEE") == (2, 0)
    assert ledger(x12_dc, "TEE", "return_restock") == [2]
    assert stock(nodes["dc"], "TEE") == (7, 0)  # shipped 3 of 10, nothing back there


def test_a_944_that_names_the_item_by_its_barcode_receives_it(nodes, x12_dc, x12_dirs):
    # given: the product has a UPC-A; the warehouse scans it and sends the EAN-13 form, no SKU
    rma = returned(nodes, x12_dc)
    Product.objects.filter(sku="TEE").update(upc="012345678905")
    loop = ["LX*1", "W07*2*EA*0012345678905", "N9*LI*1"]

    # when
    result = import_945_file(drop(x12_dirs, "944-upc.edi", x12_944(rma.number, [loop])))

    # then
    assert [(a.transaction_set, a.outcome) for a in result.advices] == [("944", "received")]
    rma.refresh_from_db()
    assert [line.received_quantity for line in rma.lines.all()] == [2]


def test_units_a_944_reports_damaged_start_the_inspection_as_damaged(
    nodes, x12_dc, x12_dirs, admin_client
):
    # given: 2 TEE back, one of them damaged on arrival (W13 with a damage reason), and a W13
    # of a condition the node does not call damaged (ignored)
    rma = returned(nodes, x12_dc)
    loop = w07_loop(1, "2", "TEE", extra=("W13*1*EA*01**CR", "W13*1*EA*99"))

    # when
    result = import_945_file(drop(x12_dirs, "944-w13.edi", x12_944(rma.number, [loop])))

    # then: received 2, of which 1 reported damaged, in the event and on the line
    assert [(a.transaction_set, a.outcome) for a in result.advices] == [("944", "received")]
    line = rma.lines.get()
    assert (line.received_quantity, line.reported_damaged_quantity) == (2, 1)
    event = Event.objects.get(stream=rma.order.stream, type="return.received")
    assert event.payload["lines"] == [
        {"line_number": 1, "sku": "TEE", "expected": 2, "received": 2, "reported_damaged": 1}
    ]
    message = InboundMessage.objects.get(kind="x12.944")
    assert message.payload["lines"][0]["exceptions"][0] == {
        "quantity": "1",
        "unit": "EA",
        "condition": "01",
        "damage_reason": "CR",
    }

    # and the console's inspection dialog starts from it: 1 back on sale, 1 damaged
    page = admin_client.get(reverse("admin:returns_return_inspect_detail", args=[rma.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "1 reported damaged by the node" in html
    assert 'name="line_1_restock" value="1"' in html
    assert 'name="line_1_damaged" value="1"' in html


def test_the_same_944_twice_has_one_effect(nodes, x12_dc, x12_dirs):
    # given
    rma = returned(nodes, x12_dc)
    text = x12_944(rma.number, [w07_loop(1, "2", "TEE")])
    first = import_945_file(drop(x12_dirs, "944-a.edi", text))

    # when: the same file again (resent, under another name)
    again = import_945_file(drop(x12_dirs, "944-again.edi", text))

    # then
    assert [(a.transaction_set, a.outcome) for a in first.advices] == [("944", "received")]
    assert [(a.transaction_set, a.outcome) for a in again.advices] == [("944", "duplicate")]
    assert (first.status, again.status) == ("processed", "processed")
    assert received_events(rma) == 1
    assert InboundMessage.objects.filter(kind="x12.944").count() == 1


def test_a_944_for_an_unknown_rma_fails_with_a_code(nodes, x12_dc, x12_dirs):
    # given
    drop(x12_dirs, "944-stranger.edi", x12_944("RMA-NOPE", [w07_loop(1, "2", "TEE")]))

    # when
    (result,) = import_x12_inbox(x12_dirs)

    # then
    assert result.status == "failed"
    assert [(a.outcome, a.error_code, a.fulfillment) for a in result.advices] == [
        ("failed", "unknown_return", "RMA-NOPE")
    ]
    assert (x12_dirs / "failed" / "944-stranger.edi").is_file()
    message = InboundMessage.objects.get(kind="x12.944")
    assert (message.status, message.error_code, message.source) == (
        "failed",
        "unknown_return",
        "x12:dc-3pl",
    )
    assert message.next_attempt_at is not None  # retried with backoff


@pytest.mark.parametrize(
    ("loop", "code"),
    [
        (w07_loop(1, "3", "TEE"), "quantity_exceeds_return"),  # 2 expected
        (w07_loop(1, "1.5", "TEE"), "invalid_quantity"),
        (w07_loop(1, "-1", "TEE"), "invalid_quantity"),
        (w07_loop(1, "2", "TEE", unit="CA"), "unsupported_unit"),
        (w07_loop(1, "2", "HAT"), "unknown_item"),
        (w07_loop(1, "0", "TEE"), "nothing_received"),
    ],
)
def test_a_944_the_return_cannot_take_fails_and_changes_nothing(
    nodes, x12_dc, x12_dirs, loop, code
):
    # given
    rma = returned(nodes, x12_dc)
    path = drop(x12_dirs, "944-bad.edi", x12_944(rma.number, [loop]))

    # when
    result = import_945_file(path)

    # then
    assert result.status == "failed"
    assert [(a.outcome, a.error_code) for a in result.advices] == [("failed", code)]
    rma.refresh_from_db()
    assert rma.status == "authorized"
    assert received_events(rma) == 0
    message = InboundMessage.objects.get(kind="x12.944")
    assert (message.status, message.error_code, message.subject) == ("failed", code, rma.number)


def test_a_944_at_another_node_is_refused(nodes, x12_dc, x12_dirs):
    # given: the return is expected at the API DC, the 944 comes from the 3PL
    order = shipped_order(nodes["dc"], external_id="X944-W", lines=[("TEE", 1, "20.00")])
    rma = request_return(
        order_id=order.pk,
        request=ReturnRequest(lines=[RequestedLine(1, 1, "size_fit", "unopened")], authorize=True),
        actor=SYSTEM,
    )
    assert rma.return_node_id == nodes["dc"].pk

    # when
    result = import_945_file(
        drop(x12_dirs, "944.edi", x12_944(rma.number, [w07_loop(1, "1", "TEE")]))
    )

    # then
    assert [(a.outcome, a.error_code) for a in result.advices] == [("failed", "wrong_node")]
    rma.refresh_from_db()
    assert rma.status == "authorized"


def test_a_refused_944_applies_when_reprocessed_after_the_fix(nodes, x12_dc, x12_dirs):
    # given: the warehouse received the parcel before customer service authorized the return
    rma = returned(nodes, x12_dc, authorize=False)
    result = import_945_file(
        drop(x12_dirs, "944-early.edi", x12_944(rma.number, [w07_loop(1, "2", "TEE")]))
    )
    assert [a.error_code for a in result.advices] == ["return_transition_refused"]
    authorize_return(return_id=rma.pk, actor=SYSTEM)
    message = InboundMessage.objects.get(kind="x12.944")

    # when
    message = reprocess_message(message_id=message.pk, actor=SYSTEM)

    # then
    assert message.status == "processed"
    rma.refresh_from_db()
    assert (rma.status, rma.received_node_id) == ("received", x12_dc.pk)
    assert received_events(rma) == 1
    # and the kept file imported again is a duplicate, no second receipt
    again = import_945_file(shutil.copy(x12_dirs / "failed" / "944-early.edi", x12_dirs / "b.edi"))
    assert [a.outcome for a in again.advices] == ["duplicate"]
    assert received_events(rma) == 1


def test_control_numbers_reused_for_another_receipt_are_refused(nodes, x12_dc, x12_dirs):
    # given: a 944 applied, then the warehouse reuses its control numbers for other content
    rma = returned(nodes, x12_dc)
    import_945_file(drop(x12_dirs, "944-a.edi", x12_944(rma.number, [w07_loop(1, "2", "TEE")])))

    # when
    result = import_945_file(
        drop(x12_dirs, "944-b.edi", x12_944(rma.number, [w07_loop(1, "1", "TEE")]))
    )

    # then
    assert [(a.outcome, a.error_code) for a in result.advices] == [("failed", "message_id_reused")]
    assert result.status == "failed"
    assert received_events(rma) == 1
    message = InboundMessage.objects.get(kind="x12.944")
    assert message.status == "processed"  # the first receipt's record is left as it was
    assert message.payload["lines"][0]["quantity"] == "2"
