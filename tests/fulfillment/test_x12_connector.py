"""The X12 file connector end to end: a release writes a 940 to the node's outbox, the
warehouse's 945 dropped in the inbox ships (or rejects) the fulfillment order, once."""

import datetime as dt
import os
import shutil
import time
from dataclasses import replace
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from fulfillment.connectors import ConnectorUnavailable, connector_for
from fulfillment.models import FulfillmentOrder, FulfillmentStatus, Shipment
from fulfillment.services.fulfillment_orders import release_payload as release_payload_for
from fulfillment.tasks import import_x12_inbox_task
from fulfillment.x12.inbox import import_945_file, import_x12_inbox
from integrations.models import InboundMessage
from integrations.x12 import (
    ItemId,
    Package,
    Party,
    ShippingOrderLine,
    parse_interchange,
    read_940s,
    read_945s,
    write_945,
)
from inventory.models import InventoryMovement, Reservation, StockLevel
from inventory.selectors import find_ledger_mismatches
from oms.events.models import Event
from ops.models import ExceptionCase
from orders.models import OrderStatus
from tests.factories.inventory import NodeFactory, stocked
from tests.fulfillment.x12_support import (
    CORPUS,
    NODE_ZONE,
    NOW,
    TRACKING,
    advice_for,
    drop_945,
    needs_corpus,
    outbox_file,
    yesterday_at_node,
)

pytestmark = pytest.mark.django_db


def event_count(order, type_: str) -> int:
    return Event.objects.filter(stream=order.stream, type=type_).count()


# -- outbound: the 940 --------------------------------------------------------------------------


def test_release_writes_a_940_that_reads_back(x12_node, products, release, x12_dirs):
    # given
    stocked(x12_node, products["TEE"], on_hand=5)
    stocked(x12_node, products["MUG"], on_hand=5)

    # when
    fo = release(skus=["TEE", "MUG"], quantity=2)

    # then
    fo.refresh_from_db()
    path = outbox_file(x12_dirs, fo)
    assert fo.status == FulfillmentStatus.RELEASED
    assert fo.node_reference == f"{fo.number}.edi"
    assert sorted(p.name for p in path.parent.iterdir()) == [f"{fo.number}.edi"]  # no temp left
    interchange = parse_interchange(path.read_bytes())  # strict: counts and controls are right
    assert (interchange.sender_id, interchange.receiver_id) == ("OMS", "DC-3PL")
    assert interchange.control_number == f"{fo.pk:09d}"
    assert interchange.groups[0].version == "004010"
    (order,) = read_940s(interchange)
    assert order.depositor_order_number == fo.number
    assert order.purchase_order_number == fo.order.number
    assert order.ship_to == Party(
        role="ST",
        name="Ada Lovelace",
        address_lines=("1 Main St",),
        city="Columbus",
        state="OH",
        postal_code="43215",
        country="US",
    )
    assert order.lines == (
        ShippingOrderLine(
            line_number="1",
            quantity=Decimal(2),
            unit="EA",
            item_ids=(ItemId("SK", "TEE"),),
            description=products["TEE"].name,
        ),
        ShippingOrderLine(
            line_number="2",
            quantity=Decimal(2),
            unit="EA",
            item_ids=(ItemId("SK", "MUG"),),
            description=products["MUG"].name,
        ),
    )
    assert order.total_quantity == Decimal(4)


def test_sending_twice_writes_identical_bytes(x12_node, products, release, x12_dirs):
    # given
    stocked(x12_node, products["TEE"], on_hand=5)
    fo = release(skus=["TEE"], quantity=1)
    path = outbox_file(x12_dirs, fo)
    first = path.read_bytes()

    # when
    ack = connector_for("x12_file").send(release_payload_for(fo))

    # then
    assert ack.reference == f"{fo.number}.edi"
    assert path.read_bytes() == first
    assert sorted(p.name for p in path.parent.iterdir()) == [f"{fo.number}.edi"]


def test_a_product_with_a_barcode_is_listed_by_it_too(x12_node, products, release, x12_dirs):
    # given: TEE has a UPC-A, MUG an EAN-13
    products["TEE"].upc = "012345678905"
    products["TEE"].save()
    products["MUG"].upc = "4006381333931"
    products["MUG"].save()
    stocked(x12_node, products["TEE"], on_hand=5)
    stocked(x12_node, products["MUG"], on_hand=5)

    # when
    fo = release(skus=["TEE", "MUG"], quantity=1)

    # then: W01-04/05 the SKU, W01-06/07 the package code with its qualifier
    (order,) = read_940s(outbox_file(x12_dirs, fo).read_bytes())
    assert [line.item_ids for line in order.lines] == [
        (ItemId("SK", "TEE"), ItemId("UP", "012345678905")),
        (ItemId("SK", "MUG"), ItemId("EN", "4006381333931")),
    ]


def test_vendor_item_qualifier_from_the_node_settings(x12_node, products, release, x12_dirs):
    # given
    x12_node.connector_settings = {**x12_node.connector_settings, "item_qualifier": "VN"}
    x12_node.save(update_fields=["connector_settings"])
    stocked(x12_node, products["TEE"], on_hand=5)

    # when
    fo = release(skus=["TEE"], quantity=1)

    # then
    (order,) = read_940s(outbox_file(x12_dirs, fo).read_bytes())
    assert order.lines[0].item_ids == (ItemId("VN", "TEE"),)


def test_an_unwritable_outbox_is_retryable(x12_node, products, release, x12_dirs, settings):
    # given
    stocked(x12_node, products["TEE"], on_hand=5)
    fo = release(skus=["TEE"], quantity=1)
    blocker = x12_dirs.outbox.parent / "not-a-folder"
    blocker.write_text("")
    settings.OMS_X12_OUTBOX_DIR = blocker / "outbox"

    # when
    with pytest.raises(ConnectorUnavailable) as raised:
        connector_for("x12_file").send(release_payload_for(fo))

    # then
    assert fo.number in str(raised.value)


def test_a_partner_id_x12_cannot_carry_is_refused(products, release, x12_dirs):
    # given: no receiver_id, and a node code too long for ISA08 (15 characters)
    node = NodeFactory(code="dc-3pl-columbus-east", connector="x12_file", priority=1)
    stocked(node, products["TEE"], on_hand=5)

    # when
    fo = release(skus=["TEE"], quantity=1)

    # then
    fo.refresh_from_db()
    assert fo.status == FulfillmentStatus.PENDING
    assert fo.last_release_error.startswith("x12_invalid_value: ")
    assert "receiver id 'DC-3PL-COLUMBUS-EAST'" in fo.last_release_error
    assert not (x12_dirs.outbox / node.code).exists()


# -- inbound: the 945 ---------------------------------------------------------------------------


def test_945_ships_the_fulfillment_order(x12_node, products, release, x12_dirs):
    # given
    stocked(x12_node, products["TEE"], on_hand=5)
    fo = release(skus=["TEE"], quantity=2)
    path = drop_945(x12_dirs.inbox, "945-0001.edi", advice_for(fo))

    # when
    result = import_945_file(path)

    # then
    fo.refresh_from_db()
    fo.order.refresh_from_db()
    assert (result.status, result.applied, result.duplicates, result.errors) == (
        "processed",
        1,
        0,
        [],
    )
    assert result.advices[0].message_id == "000007001-7001-0001"
    assert result.advices[0].outcome == "shipped"
    assert result.moved_to == str(x12_dirs.inbox / "processed" / "945-0001.edi")
    assert not path.exists()
    assert fo.status == FulfillmentStatus.SHIPPED
    assert fo.shipped_at == dt.datetime.combine(yesterday_at_node(), dt.time(12), NODE_ZONE)
    assert list(
        Shipment.objects.filter(fulfillment=fo).values_list("carrier", "service", "tracking_number")
    ) == [("UPSN", "UPS GROUND", TRACKING)]
    level = StockLevel.objects.get(node=x12_node, product=products["TEE"])
    assert (level.on_hand, level.reserved) == (3, 0)
    assert list(
        InventoryMovement.objects.filter(reason="shipment").values_list(
            "node__code", "delta_on_hand", "delta_reserved"
        )
    ) == [("dc-3pl", -2, -2)]
    assert fo.order.status == OrderStatus.SHIPPED
    assert event_count(fo.order, "fulfillment.shipped") == 1
    message = InboundMessage.objects.get(source="x12:dc-3pl", message_id="000007001-7001-0001")
    assert (message.status, message.kind, message.subject) == (
        "processed",
        "x12.945",
        fo.number,
    )


def test_importing_the_same_945_twice_has_one_effect(x12_node, products, release, x12_dirs):
    # given
    stocked(x12_node, products["TEE"], on_hand=5)
    fo = release(skus=["TEE"], quantity=2)
    path = drop_945(x12_dirs.inbox, "945-0001.edi", advice_for(fo))
    import_945_file(path)
    again = x12_dirs.inbox / "945-0001-resent.edi"
    shutil.copy(x12_dirs.inbox / "processed" / "945-0001.edi", again)

    # when
    (result,) = import_x12_inbox(x12_dirs.inbox)

    # then
    assert (result.file, result.status, result.applied, result.duplicates, result.errors) == (
        "945-0001-resent.edi",
        "processed",
        0,
        1,
        [],
    )
    assert event_count(fo.order, "fulfillment.shipped") == 1
    assert Shipment.objects.filter(fulfillment=fo).count() == 1
    level = StockLevel.objects.get(node=x12_node, product=products["TEE"])
    assert (level.on_hand, level.reserved) == (3, 0)
    assert InventoryMovement.objects.filter(reason="shipment").count() == 1
    assert sorted(p.name for p in (x12_dirs.inbox / "processed").iterdir()) == [
        "945-0001-resent.edi",
        "945-0001.edi",
    ]


def test_short_945_records_the_short_and_reroutes(
    x12_node, backup_node, products, release, x12_dirs, django_capture_on_commit_callbacks
):
    # given
    stocked(x12_node, products["TEE"], on_hand=5)
    fo = release(skus=["TEE"], quantity=3)
    stocked(backup_node, products["TEE"], on_hand=4)  # stock elsewhere arrives after routing
    path = drop_945(x12_dirs.inbox, "945-short.edi", advice_for(fo, shipped={"TEE": 2}))

    # when
    with django_capture_on_commit_callbacks(execute=True):
        result = import_945_file(path)

    # then
    fo.refresh_from_db()
    fo.order.refresh_from_db()
    assert [a.outcome for a in result.advices] == ["short_shipped"]
    assert fo.status == FulfillmentStatus.SHIPPED
    assert list(fo.lines.values_list("shipped_quantity", "short_quantity", "short_reason")) == [
        (2, 1, "short shipped (945)")
    ]
    shipped = Event.objects.get(stream=fo.order.stream, type="fulfillment.shipped")
    assert shipped.payload["short"] == [{"line_number": 1, "sku": "TEE", "short": 1}]
    assert list(
        Reservation.objects.filter(status="active").values_list("node__code", "quantity")
    ) == [("dc-backup", 1)]
    rerouted = FulfillmentOrder.objects.exclude(pk=fo.pk).get(order=fo.order)
    assert (rerouted.node.code, rerouted.status) == ("dc-backup", FulfillmentStatus.RELEASED)
    # the unit shipped short is written off the 945's node (not given back): 5 - 2 - 1
    level = StockLevel.objects.get(node=x12_node, product=products["TEE"])
    assert (level.on_hand, level.reserved, level.available) == (2, 0, 2)
    assert list(
        InventoryMovement.objects.filter(node=x12_node, reason="shortage").values_list(
            "delta_on_hand", "delta_reserved"
        )
    ) == [(-1, -1)]
    assert find_ledger_mismatches() == []
    case = ExceptionCase.objects.get(kind="cycle_count")
    assert (case.subject_label, [s["sku"] for s in case.details["skus"]]) == (
        x12_node.code,
        ["TEE"],
    )
    assert fo.order.status == OrderStatus.PARTIALLY_SHIPPED


def test_945_shipping_nothing_rejects_and_reroutes(
    x12_node, backup_node, products, release, x12_dirs, django_capture_on_commit_callbacks
):
    # given
    stocked(x12_node, products["TEE"], on_hand=5)
    fo = release(skus=["TEE"], quantity=2)
    stocked(backup_node, products["TEE"], on_hand=4)
    path = drop_945(x12_dirs.inbox, "945-none.edi", advice_for(fo, shipped={"TEE": 0}))

    # when
    with django_capture_on_commit_callbacks(execute=True):
        result = import_945_file(path)

    # then
    fo.refresh_from_db()
    assert [a.outcome for a in result.advices] == ["rejected"]
    assert (fo.status, fo.close_reason) == (
        FulfillmentStatus.REJECTED,
        "warehouse shipped nothing (945)",
    )
    level = StockLevel.objects.get(node=x12_node, product=products["TEE"])
    assert (level.on_hand, level.reserved) == (5, 0)
    assert list(
        Reservation.objects.filter(status="active").values_list("node__code", "quantity")
    ) == [("dc-backup", 2)]
    assert Shipment.objects.exists() is False


def test_parcels_named_per_line_carry_their_lines(x12_node, products, release, x12_dirs):
    # given
    stocked(x12_node, products["TEE"], on_hand=5)
    stocked(x12_node, products["MUG"], on_hand=5)
    fo = release(skus=["TEE", "MUG"], quantity=1)
    advice = advice_for(fo, references=())
    advice = replace(
        advice,
        lines=tuple(
            replace(line, packages=(Package("CP", f"PARCEL-{number}"),))
            for number, line in enumerate(advice.lines, 1)
        ),
    )
    path = drop_945(x12_dirs.inbox, "945-parcels.edi", advice)

    # when
    result = import_945_file(path)

    # then
    assert result.advices[0].tracking_numbers == ("PARCEL-1", "PARCEL-2")
    parcels = {
        shipment.tracking_number: list(
            shipment.lines.values_list("fulfillment_line__order_line__sku", "quantity")
        )
        for shipment in Shipment.objects.filter(fulfillment=fo)
    }
    assert parcels == {"PARCEL-1": [("TEE", 1)], "PARCEL-2": [("MUG", 1)]}


def test_a_broken_945_is_moved_to_failed_and_nothing_applies(x12_node, products, release, x12_dirs):
    # given
    stocked(x12_node, products["TEE"], on_hand=5)
    fo = release(skus=["TEE"], quantity=2)
    text = write_945(
        advice_for(fo), sender_id="DC-3PL", receiver_id="OMS", control_number=7001, now=NOW
    )
    segments = text.splitlines()
    se = next(i for i, s in enumerate(segments) if s.startswith("SE*"))
    segments[se] = "SE*99*0001~"  # the segment count no longer matches
    path = x12_dirs.inbox / "945-broken.edi"
    path.write_text("\n".join(segments) + "\n")

    # when
    result = import_945_file(path)

    # then
    fo.refresh_from_db()
    assert (result.status, result.error_code, result.applied) == (
        "failed",
        "se_count_mismatch",
        0,
    )
    assert result.moved_to == str(x12_dirs.inbox / "failed" / "945-broken.edi")
    assert fo.status == FulfillmentStatus.RELEASED
    message = InboundMessage.objects.get(kind="x12.945")
    assert (message.source, message.status, message.error_code, message.subject) == (
        "x12:inbox",
        "dead",  # the same bytes would fail the same way: a person fixes the file
        "se_count_mismatch",
        "945-broken.edi",
    )
    assert "SE01" in message.error
    assert message.payload["kept_at"] == result.moved_to
    case = ExceptionCase.objects.get(subject_type="message", subject_id=message.pk)
    assert (case.kind, case.status) == ("integration_failed", "open")


@needs_corpus
def test_the_corpus_negative_file_is_refused(x12_dirs):
    # given
    path = x12_dirs.inbox / "negative.edi"
    shutil.copy(CORPUS / "x12_940__ediengine_NEGATIVE_failed_se01.edi", path)

    # when
    result = import_945_file(path)

    # then
    assert (result.status, result.error_code) == ("failed", "se_count_mismatch")
    assert (x12_dirs.inbox / "failed" / "negative.edi").exists()
    assert list(InboundMessage.objects.values_list("status", "error_code")) == [
        ("dead", "se_count_mismatch")
    ]


@needs_corpus
def test_corpus_945s_against_no_fulfillment_are_errors_never_crashes(x12_dirs):
    # given: the corpus files as they are, and their advices in a valid envelope
    for number, path in enumerate(sorted(CORPUS.glob("x12_945__*.edi")), start=1):
        shutil.copy(path, x12_dirs.inbox / path.name)
        (advice,) = read_945s(path.read_bytes(), strict=False)
        drop_945(x12_dirs.inbox, f"rewrapped_{path.name}", advice, control_number=number)

    # when
    results = import_x12_inbox(x12_dirs.inbox)

    # then
    assert [(r.file, r.status, [code for code, _ in r.errors]) for r in results] == [
        (
            "rewrapped_x12_945__oopfactory_inter_americanproducts.edi",
            "failed",
            ["unknown_fulfillment"],
        ),
        ("rewrapped_x12_945__x12types_test_1.edi", "failed", ["unknown_fulfillment"]),
        ("x12_945__oopfactory_inter_americanproducts.edi", "failed", ["gs_malformed"]),
        ("x12_945__x12types_test_1.edi", "failed", ["isa_malformed"]),
    ]
    assert sorted(p.name for p in (x12_dirs.inbox / "failed").iterdir()) == sorted(
        r.file for r in results
    )
    assert sorted(
        InboundMessage.objects.values_list("source", "subject", "status", "error_code")
    ) == [
        ("x12:inbox", "x12_945__oopfactory_inter_americanproducts.edi", "dead", "gs_malformed"),
        ("x12:inbox", "x12_945__x12types_test_1.edi", "dead", "isa_malformed"),
        ("x12:isa:DC-3PL", "", "failed", "unknown_fulfillment"),  # W06-02 left empty
        ("x12:isa:DC-3PL", "IF102", "failed", "unknown_fulfillment"),
    ]


def test_one_unknown_advice_does_not_stop_the_others(x12_node, products, release, x12_dirs):
    # given
    stocked(x12_node, products["TEE"], on_hand=5)
    fo = release(skus=["TEE"], quantity=1)
    stranger = advice_for(fo, depositor_order_number="OMS-NOPE-NOPE-1")
    path = drop_945(x12_dirs.inbox, "945-two.edi", [stranger, advice_for(fo)])

    # when
    result = import_945_file(path)

    # then
    fo.refresh_from_db()
    assert [(a.fulfillment, a.outcome, a.error_code) for a in result.advices] == [
        ("OMS-NOPE-NOPE-1", "failed", "unknown_fulfillment"),
        (fo.number, "shipped", ""),
    ]
    assert fo.status == FulfillmentStatus.SHIPPED
    assert result.moved_to == str(x12_dirs.inbox / "failed" / "945-two.edi")
    failed = InboundMessage.objects.get(status="failed")
    assert (failed.source, failed.message_id, failed.error_code) == (
        "x12:dc-3pl",  # the ISA sender id is the node's partner id
        "000007001-7001-0001",
        "unknown_fulfillment",
    )


def test_an_item_not_on_the_fulfillment_order_fails_that_advice(
    x12_node, products, release, x12_dirs
):
    # given
    stocked(x12_node, products["TEE"], on_hand=5)
    fo = release(skus=["TEE"], quantity=1)
    advice = advice_for(fo)
    advice = replace(advice, lines=(replace(advice.lines[0], item_ids=(ItemId("SK", "CAP"),)),))
    path = drop_945(x12_dirs.inbox, "945-cap.edi", advice)

    # when
    result = import_945_file(path)

    # then
    fo.refresh_from_db()
    assert [(a.outcome, a.error_code) for a in result.advices] == [("failed", "unknown_item")]
    assert fo.status == FulfillmentStatus.RELEASED


def test_a_945_for_another_nodes_fulfillment_order_is_refused(
    x12_node, backup_node, products, release, x12_dirs
):
    # given
    stocked(x12_node, products["TEE"], on_hand=5)
    fo = release(skus=["TEE"], quantity=1)
    path = drop_945(x12_dirs.inbox, "945-elsewhere.edi", advice_for(fo))

    # when
    result = import_945_file(path, node_code="dc-backup")

    # then
    fo.refresh_from_db()
    assert [(a.outcome, a.error_code, a.error) for a in result.advices] == [
        ("failed", "wrong_node", f"Fulfillment {fo.number} is at dc-3pl, not at dc-backup.")
    ]
    assert fo.status == FulfillmentStatus.RELEASED
    assert InboundMessage.objects.get().source == "x12:dc-backup"


def test_the_scheduled_scan_leaves_files_still_being_uploaded(
    x12_node, products, release, x12_dirs
):
    # given
    stocked(x12_node, products["TEE"], on_hand=5)
    stocked(x12_node, products["MUG"], on_hand=5)
    settled = release(skus=["TEE"], quantity=1, external_id="EXT-1")
    uploading = release(skus=["MUG"], quantity=1, external_id="EXT-2")
    old = drop_945(x12_dirs.inbox, "945-settled.edi", advice_for(settled), control_number=1)
    os.utime(old, (time.time() - 120, time.time() - 120))
    drop_945(x12_dirs.inbox, "945-uploading.edi", advice_for(uploading), control_number=2)

    # when
    counts = import_x12_inbox_task.delay().get()

    # then
    assert counts == {"files": 1, "applied": 1, "duplicates": 0, "errors": 0}
    assert sorted(p.name for p in x12_dirs.inbox.iterdir() if p.is_file()) == ["945-uploading.edi"]
    settled.refresh_from_db()
    uploading.refresh_from_db()
    assert (settled.status, uploading.status) == ("shipped", "released")


def test_command_reports_each_file(x12_node, products, release, x12_dirs):
    # given
    stocked(x12_node, products["TEE"], on_hand=5)
    fo = release(skus=["TEE"], quantity=1)
    drop_945(x12_dirs.inbox, "a-good.edi", advice_for(fo))
    (x12_dirs.inbox / "b-junk.txt").write_text("hello")
    (x12_dirs.inbox / "c-ignored.csv").write_text("sku,qty")
    out = StringIO()

    # when
    with pytest.raises(CommandError) as raised:
        call_command("import_x12", "--inbox", str(x12_dirs.inbox), stdout=out)

    # then
    assert str(raised.value) == "1 of 2 file(s) had errors."
    assert out.getvalue().splitlines() == [
        f"a-good.edi: processed → {x12_dirs.inbox / 'processed' / 'a-good.edi'}; 1 advice(s), "
        "1 applied, 0 duplicate(s), 0 error(s)",
        f"  000007001-7001-0001 {fo.number}: shipped (tracking {TRACKING})",
        f"b-junk.txt: failed → {x12_dirs.inbox / 'failed' / 'b-junk.txt'}; 0 advice(s), "
        "0 applied, 0 duplicate(s), 1 error(s)",
        "  error not_x12: the input does not start with an ISA segment: 'hello'",
    ]
    assert (x12_dirs.inbox / "c-ignored.csv").exists()
