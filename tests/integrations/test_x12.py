"""X12 parser, typed 940/945/856 readers and 940/945 writers, on the shared corpus (no database).

Every expected value below was read by hand from the corpus files (shared/corpus/edi).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest

from integrations.x12 import (
    Carrier,
    ErrorCode,
    ItemId,
    Note,
    Package,
    Party,
    QualifiedDate,
    Reference,
    ShipmentAdviceLine,
    ShippingOrderLine,
    StockQuantity,
    WarehouseShippingAdvice,
    WarehouseShippingOrder,
    X12Error,
    parse_interchange,
    parse_interchanges,
    read_846s,
    read_856s,
    read_940,
    read_940s,
    read_945s,
    read_document,
    write_940,
    write_945,
)
from tests.corpus import corpus

CORPUS = corpus("edi")
CORPUS_FILES = sorted(p.name for p in CORPUS.glob("x12_*.edi")) if CORPUS.is_dir() else []
needs_corpus = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"X12 corpus not found at {CORPUS} (clone shared/ next to main/)"
)
NOW = dt.datetime(2025, 3, 3, 14, 5, tzinfo=dt.UTC)


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def code_of(data: str | bytes, *, strict: bool = True) -> str | None:
    try:
        parse_interchanges(data, strict=strict)
    except X12Error as error:
        return error.code
    return None


# -- the envelope on every corpus file ----------------------------------------------------------

# Strict outcome of every corpus file: None = accepted, else the code of the first problem, and
# the issues a lenient parse (strict=False) records for the same file.
ENVELOPE = {
    "x12_204__edinet_mgctlyst_sample.edi": ("se_count_mismatch", ["se_count_mismatch"]),
    "x12_210__edinet_mgctlyst_sample.edi": (None, []),
    "x12_214__edinet_mgctlyst_sample.edi": (None, []),
    "x12_214__edinet_x12_214.edi": (None, []),  # ISA wrapped over two lines
    "x12_214__x12types_test_1.edi": ("iea_control_mismatch", ["iea_control_mismatch"]),
    "x12_214__x12types_test_2.edi": ("isa_malformed", ["isa_malformed", "se_control_mismatch"]),
    "x12_315__x12types_004010_ocean_status.edi": (None, []),
    "x12_810__edinet_810a.edi": ("isa_malformed", ["isa_malformed"]),
    "x12_810__oopfactory_example3_multiinvoice.edi": (None, []),
    "x12_810__oopfactory_example5_walmart.edi": (None, []),
    "x12_846__oopfactory_example1.edi": (None, []),
    "x12_846__oopfactory_example2.edi": (None, []),
    "x12_850__ediengine_850_ok.edi": (None, []),
    "x12_850__edinet_850a.edi": ("isa_malformed", ["isa_malformed", "iea_control_mismatch"]),
    "x12_850__nodex12_850_fat.edi": (None, []),
    "x12_850__oopfactory_example1_pgwglass.edi": (None, []),
    "x12_850__oopfactory_example3_adobe_clp.edi": ("isa_malformed", ["isa_malformed"]),
    "x12_855__nodex12_855.edi": (None, []),
    "x12_855__oopfactory_example1_adobe.edi": (None, []),
    "x12_856__ediengine_crossdock_ok.edi": (None, []),
    "x12_856__nodex12_856.edi": (None, []),
    "x12_856__oopfactory_example1.edi": (None, []),
    "x12_856__oopfactory_example2.edi": (None, []),
    "x12_856__oopfactory_example3.edi": (None, []),
    "x12_856__oopfactory_example4.edi": (None, []),
    "x12_856__oopfactory_fromgregarican.edi": (None, []),
    "x12_856__x12types_004060.edi": (None, []),
    "x12_860__oopfactory_example1.edi": ("isa_malformed", ["isa_malformed", "se_count_mismatch"]),
    "x12_940__ediengine_940_2_ok.edi": (None, []),
    "x12_940__ediengine_940_ok.edi": (None, []),
    "x12_940__ediengine_NEGATIVE_failed_se01.edi": ("se_count_mismatch", ["se_count_mismatch"]),
    "x12_940__ediengine_acktest_multi_group.edi": (None, []),
    "x12_940__oopfactory_simplot.edi": (
        "ge_control_mismatch",
        ["ge_control_mismatch", "iea_control_mismatch"],
    ),
    "x12_940__x12types_test_1.edi": (
        "ge_control_mismatch",
        ["ge_control_mismatch", "iea_control_mismatch"],
    ),
    "x12_940__x12types_test_2.edi": (None, []),
    "x12_940__x12types_test_3.edi": (None, []),
    "x12_940__x12types_test_4.edi": (None, []),
    "x12_945__oopfactory_inter_americanproducts.edi": (
        "gs_malformed",
        ["gs_malformed", "ge_control_mismatch"],
    ),
    "x12_945__x12types_test_1.edi": ("isa_malformed", ["isa_malformed", "se_count_mismatch"]),
    "x12_990__edinet_mgctlyst_sample.edi": (None, []),
    "x12_997__x12types_test_1.edi": ("missing_envelope", None),
    "x12_997__x12types_test_2.edi": ("missing_envelope", None),
    "x12_997__x12types_test_3.edi": ("missing_envelope", None),
    "x12_997__x12types_test_4.edi": ("missing_envelope", None),
    "x12_NEGATIVE__ediengine_control_numbers_mismatch.edi": (
        "se_control_mismatch",
        ["se_control_mismatch", "ge_control_mismatch", "iea_control_mismatch"],
    ),
    "x12_TA1__oopfactory_sample1.edi": (None, []),
}


@needs_corpus
def test_every_corpus_file_has_an_expected_outcome():
    assert sorted(ENVELOPE) == CORPUS_FILES
    readable = [n for n in CORPUS_FILES if "NEGATIVE" not in n]
    assert sorted(SPOT_940) == [n for n in readable if n.startswith("x12_940")]
    assert sorted(SPOT_856) == [n for n in readable if n.startswith("x12_856")]


@needs_corpus
@pytest.mark.parametrize("name", CORPUS_FILES)
def test_corpus_envelope_strict_and_lenient(name):
    strict_code, lenient_issues = ENVELOPE[name]
    assert code_of(corpus(name)) == strict_code
    if lenient_issues is None:  # no envelope at all: nothing to be lenient about
        assert code_of(corpus(name), strict=False) == strict_code
        return
    interchanges = parse_interchanges(corpus(name), strict=False)
    assert [issue.code for ic in interchanges for issue in ic.issues] == lenient_issues


@needs_corpus
@pytest.mark.parametrize(
    "name",
    [
        n
        for n in CORPUS_FILES
        if ENVELOPE[n][1] is not None
        and not n.startswith(("x12_940", "x12_945", "x12_856", "x12_846", "x12_NEGATIVE"))
    ],
)
def test_transaction_sets_without_a_typed_reader_are_refused(name):
    interchanges = parse_interchanges(corpus(name), strict=False)
    for interchange in interchanges:
        for ts in interchange.transaction_sets:
            with pytest.raises(X12Error) as caught:
                read_document(ts)
            assert caught.value.code == ErrorCode.UNSUPPORTED_TRANSACTION_SET
            with pytest.raises(X12Error, match="expected a 940") as caught:
                read_940(ts)
            assert caught.value.code == "unsupported_transaction_set"


@needs_corpus
@pytest.mark.parametrize(
    ("name", "element", "component", "segment"),
    [
        ("x12_940__ediengine_940_ok.edi", "*", ">", "\n"),  # newline as the terminator
        ("x12_940__x12types_test_1.edi", "*", "\\", "~"),
        ("x12_856__oopfactory_example1.edi", "~", "`", "*"),
        ("x12_856__oopfactory_example3.edi", "*", ":", "\u2026"),  # "…", a multi-byte char
        ("x12_846__oopfactory_example1.edi", "~", ">", "}"),
        ("x12_850__oopfactory_example1_pgwglass.edi", "*", "~", "|"),
        ("x12_214__edinet_x12_214.edi", "*", ">", "~"),
    ],
)
def test_delimiters_come_from_the_isa_header(name, element, component, segment):
    delimiters = parse_interchanges(corpus(name), strict=False)[0].delimiters
    assert (delimiters.element, delimiters.component, delimiters.segment) == (
        element,
        component,
        segment,
    )


@needs_corpus
def test_multiple_groups_and_transaction_sets():
    interchange = parse_interchange(corpus("x12_940__ediengine_acktest_multi_group.edi"))
    assert [g.control_number for g in interchange.groups] == ["9221", "9222"]
    assert [ts.control_number for ts in interchange.transaction_sets] == ["20066", "20067", "20068"]
    assert interchange.control_number == "000009221"
    assert (interchange.sender_id, interchange.receiver_id) == ("VENDOR", "WAREHOUSE")
    orders = read_940s(interchange)
    assert [o.depositor_order_number for o in orders] == ["35131"] * 3
    assert orders[1].lines[0].references[1] == Reference("", "3")  # N9**3: qualifier left empty


@needs_corpus
def test_several_interchanges_in_one_file():
    data = corpus("x12_850__nodex12_850_fat.edi")
    assert len(parse_interchanges(data)) == 2
    with pytest.raises(X12Error) as caught:
        parse_interchange(data)
    assert caught.value.code == "unexpected_segment"


@needs_corpus
def test_interchange_acknowledgments_without_groups():
    interchange = parse_interchange(corpus("x12_TA1__oopfactory_sample1.edi"))
    assert interchange.groups == ()
    assert [ta1.get(1) for ta1 in interchange.acknowledgments] == ["0659", "0660"]


# -- hand-made corruptions ----------------------------------------------------------------------

OK_940 = "x12_940__ediengine_940_ok.edi"


def corrupted(old: str, new: str) -> str:
    text = corpus(OK_940).decode()
    assert old in text
    return text.replace(old, new, 1)


@needs_corpus
@pytest.mark.parametrize(
    ("make", "code"),
    [
        pytest.param(lambda: corpus(OK_940)[:500], "missing_trailer", id="truncated"),
        pytest.param(lambda: corpus(OK_940)[:60], "isa_malformed", id="truncated-in-isa"),
        pytest.param(lambda: corrupted("SE*29*", "SE*30*"), "se_count_mismatch", id="se01+1"),
        pytest.param(
            lambda: corrupted("SE*29*0001", "SE*29*0002"), "se_control_mismatch", id="se02"
        ),
        pytest.param(lambda: corrupted("GE*1*", "GE*2*"), "ge_count_mismatch", id="ge01"),
        pytest.param(lambda: corrupted("GE*1*3317", "GE*1*3318"), "ge_control_mismatch", id="ge02"),
        pytest.param(lambda: corrupted("IEA*1*", "IEA*3*"), "iea_count_mismatch", id="iea01"),
        pytest.param(
            lambda: corrupted("IEA*1*000003438", "IEA*1*9"), "iea_control_mismatch", id="iea02"
        ),
        pytest.param(lambda: corrupted("SE*29*0001\n", ""), "missing_trailer", id="no-se"),
        pytest.param(lambda: corrupted("GE*1*3317\n", ""), "missing_trailer", id="no-ge"),
        pytest.param(
            lambda: corrupted("GE*1*3317\n", "GE*1*3317\nN9*XX*1\n"),
            "unexpected_segment",
            id="after-ge",
        ),
        pytest.param(
            lambda: corrupted("SE*29*0001\n", "SE*29*0001\nW05*N*1\n"),
            "unexpected_segment",
            id="between-sets",
        ),
        pytest.param(lambda: corpus(OK_940) + b"\nGARBAGE", "unexpected_segment", id="after-iea"),
        pytest.param(lambda: corrupted("W05*", "w05*"), "segment_malformed", id="lowercase-id"),
        pytest.param(
            lambda: corrupted("GS*OW*7705551212*3111350000*20000128*0557*3317*T*004010", "GS*OW*1"),
            "gs_malformed",
            id="short-gs",
        ),
        pytest.param(lambda: "", "not_x12", id="empty"),
        pytest.param(lambda: "Hello, this is not EDI at all", "not_x12", id="garbage"),
        pytest.param(lambda: b"\x89PNG\r\n\x1a\n\x00\x00", "not_x12", id="binary"),
        pytest.param(lambda: "ISA1234567890", "isa_malformed", id="isa-no-separator"),
        pytest.param(lambda: "ST*940*0001~W05*N*1~SE*3*0001~", "missing_envelope", id="bare-st"),
    ],
)
def test_corruptions_are_rejected_with_their_code(make, code):
    assert code_of(make()) == code


@needs_corpus
def test_lenient_parsing_still_rejects_structural_damage():
    assert code_of(corpus(OK_940)[:500], strict=False) == "missing_trailer"
    interchange = parse_interchange(corrupted("SE*29*", "SE*28*"), strict=False)
    assert [(i.code, i.segment_id, i.segment_index) for i in interchange.issues] == [
        ("se_count_mismatch", "SE", 30)
    ]


@needs_corpus
def test_error_names_the_segment():
    with pytest.raises(X12Error) as caught:
        parse_interchanges(corpus("x12_940__ediengine_NEGATIVE_failed_se01.edi"))
    error = caught.value
    assert (error.code, error.segment_index, error.segment_id) == ("se_count_mismatch", 10, "SE")
    assert "SE01 says '12' segments" in error.message
    assert "has 9" in error.message


@needs_corpus
@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        ("W05*N*538686**001001*538686\n", "", "missing_segment"),
        ("G62*10*20000204", "G62*10*20000231", "invalid_value"),
        ("W01*12*CA", "W01*twelve*CA", "invalid_value"),
    ],
    ids=["no-w05", "bad-date", "bad-quantity"],
)
def test_typed_reader_errors(old, new, code):
    text = corrupted(old, new)
    if not new:  # keep SE01 right so that only the reader complains
        text = text.replace("SE*29*", "SE*28*")
    with pytest.raises(X12Error) as caught:
        read_940s(text)
    assert caught.value.code == code


# -- 940 ----------------------------------------------------------------------------------------


def read_one_940(name: str) -> WarehouseShippingOrder:
    strict = ENVELOPE[name][0] is None
    (order, *_) = read_940s(corpus(name), strict=strict)
    return order


# file → W05-02, W05-03, first line's W01-01, W01-02 and first item id, W66-05 and W66-10
# fmt: off
SPOT_940 = {
    "x12_940__ediengine_940_2_ok.edi":
        ("35131", "POMAIL", "1", "EA", ("VC", "110220"), "UPS GROUND", None),
    "x12_940__ediengine_940_ok.edi":
        ("538686", None, "12", "CA", ("VN", "000100"), "MTEN", None),
    "x12_940__ediengine_acktest_multi_group.edi":
        ("35131", "POMAIL", "1", "EA", ("VC", "110220"), "MTEN", None),
    "x12_940__oopfactory_simplot.edi":
        ("01235639", "3353558", "972", "CA", ("UK", "10071179009894"), "CUST", None),
    "x12_940__x12types_test_1.edi":
        ("538686", None, "12", "CA", ("VN", "000100"), "MTEN", None),
    "x12_940__x12types_test_2.edi":
        ("0080215659", "4000207344", "2", "PC", ("VN", "E000169"), None, "CALL"),
    "x12_940__x12types_test_3.edi":
        ("18061923", "Test Order 1", "750", "CA", ("VN", "0638746000"), None, "CPU"),
    "x12_940__x12types_test_4.edi":
        ("18061930", "18061930", "300", "CA", ("VN", "0172183000"), None, "GORK"),
}
# fmt: on


@needs_corpus
@pytest.mark.parametrize(
    ("name", "depositor", "po", "quantity", "unit", "first_item", "routing", "scac"),
    [(name, *values) for name, values in SPOT_940.items()],
    ids=list(SPOT_940),
)
def test_940_corpus_spot_checks(name, depositor, po, quantity, unit, first_item, routing, scac):
    order = read_one_940(name)
    assert order.depositor_order_number == depositor
    assert order.purchase_order_number == po
    line = order.lines[0]
    assert (line.quantity, line.unit) == (Decimal(quantity), unit)
    assert line.item_ids[0] == ItemId(*first_item)
    assert order.carrier is not None
    assert (order.carrier.routing, order.carrier.scac) == (routing, scac)


@needs_corpus
def test_940_full_reading():
    order = read_one_940("x12_940__ediengine_940_ok.edi")
    assert order.master_reference == "538686"
    assert order.ship_to == Party(
        role="ST",
        name="ST COMPANY",
        id_qualifier="ZZ",
        id="00000001",
        address_lines=("ADDRESS",),
        city="CITY",
        state="CA",
        postal_code="00003",
    )
    assert order.ship_from is not None
    assert order.ship_from.role == "WH"
    assert [p.role for p in order.other_parties] == ["DE"]
    assert order.references == (Reference("BR", "R1121"),)
    assert order.requested_ship_date == dt.date(2000, 2, 4)
    assert order.requested_delivery_date == dt.date(2000, 2, 7)
    assert order.notes == (Note("WHI", "SHIP ON CHEP PALLETS"),)
    assert order.carrier == Carrier(routing="MTEN", transport_method="M", payment_method="PP")
    assert [line.line_number for line in order.lines] == ["1", "2", "3"]
    assert order.lines[0] == ShippingOrderLine(
        line_number="1",
        quantity=Decimal(12),
        unit="CA",
        upc_case_code="000100000010",
        item_ids=(ItemId("VN", "000100"), ItemId("UC", "DEC0199")),
        lot_number="19991205",
        description="11.500 STRUD BLUBRY",
        references=(Reference("PC", "DEC0199"),),
    )
    assert order.lines[0].sku == "000100"
    assert (order.total_quantity, order.total_weight, order.weight_unit) == (56, 500, "LB")
    assert order.unknown_segments == ()


@needs_corpus
def test_940_vendor_quirks():
    simplot = read_one_940("x12_940__oopfactory_simplot.edi")  # BOM, indentation, no ST party
    assert simplot.ship_to is not None
    assert simplot.ship_to.role == "CN"
    assert simplot.ship_to.city == "Guilderland Center"
    assert simplot.ship_to.country == "US"
    assert simplot.lines[0].description == "KFC Fries Seas Wedge 14Cut 6/6#"
    assert simplot.lines[0].upc_case_code == "007117900989"
    assert [s.id for s in simplot.lines[0].unknown_segments] == ["W20"]

    babelway = read_one_940("x12_940__x12types_test_2.edi")  # N2 lines, PER and G61 contacts
    assert babelway.ship_to is not None
    assert babelway.ship_to.extra_names == ("Co Ltd", "B2-1-2,", "Building 2, Marrietta")
    assert babelway.ship_to.address_lines == ("No 27 Huangping Road",)
    assert babelway.ship_from is not None
    assert babelway.ship_from.country == "CN"
    assert [s.id for s in babelway.unknown_segments] == ["PER", "PER", "G61"]
    assert babelway.reference("ZZ") == "DDP"

    # General Mills: a W01 wrapped over two lines in the source; W01-15/16 = PI (purchaser's
    # item code) 001089, and SE01 counts it as one segment, which confirms the reading.
    general_mills = read_one_940("x12_940__x12types_test_3.edi")
    assert general_mills.lines[0].item_ids[-1] == ItemId("PI", "001089")
    assert general_mills.ship_to is not None
    assert general_mills.ship_to.address_lines == ("2121 BOEING WAY", "STOCKTON WHSE 989")

    # ISA16 is "~" and every segment ends "~\n": trailing empty components are dropped.
    trailing = parse_interchange(corpus("x12_940__x12types_test_4.edi"))
    assert trailing.groups[0].version == "004010UCS"
    assert trailing.transaction_sets[0].control_number == "43320001"
    assert read_940s(trailing)[0].order_status == "R"


# -- 945 ----------------------------------------------------------------------------------------


@needs_corpus
def test_945_inter_american_products():
    (advice,) = read_945s(corpus("x12_945__oopfactory_inter_americanproducts.edi"), strict=False)
    assert advice.depositor_order_number is None  # W06*N**20020916*2144: W06-02 left empty
    assert (advice.ship_date, advice.shipment_id) == (dt.date(2002, 9, 16), "2144")
    assert advice.carrier == Carrier(transport_method="M", scac="NA")
    assert len(advice.lines) == 3
    line = advice.lines[0]
    assert (line.quantity_ordered, line.quantity_shipped, line.quantity_difference) == (
        120,
        120,
        None,
    )
    assert (line.item_ids, line.lot_number, line.status) == (
        (ItemId("IN", "339408"),),
        "19284",
        "CL",
    )
    assert line.tracking_numbers == ("K018293-00010",)
    assert advice.tracking_numbers == ("K018293-00010", "K018273-00033", "K082738-0041")
    assert (advice.total_units_shipped, advice.total_weight) == (920, 46600)


@needs_corpus
def test_945_unpadded_isa_sample():
    (advice,) = read_945s(corpus("x12_945__x12types_test_1.edi"), strict=False)
    assert advice.depositor_order_number == "IF102"
    assert (advice.ship_date, advice.shipment_id, advice.purchase_order_number) == (
        dt.date(2019, 6, 4),
        "BOL12345",
        "PO9865",
    )
    assert advice.carrier == Carrier(
        transport_method="M", scac="NPLT", routing="NORTHPOINT TRANSPOR", payment_method="PP"
    )
    assert advice.ship_to is not None
    assert advice.ship_to.postal_code == "66216-4563"
    assert advice.ship_from is not None
    assert advice.ship_from.id == "CHI"
    (line,) = advice.lines
    assert line.line_number == "10"
    assert line.sku == "123456789"
    assert (line.quantity_ordered, line.quantity_shipped, line.quantity_difference) == (
        3000,
        3000,
        0,
    )
    assert line.description == "WIDGETS 100 PER BOX"
    assert line.package_ids == ("LPN6569",)
    assert [s.id for s in advice.unknown_segments] == ["W10"]


# -- 856 ----------------------------------------------------------------------------------------


# file → BSN-02, DTM 011, REF CN/MAN CP, the orders' PRF-01, first item's LIN id and SN1-02
# fmt: off
SPOT_856 = {
    "x12_856__ediengine_crossdock_ok.edi":
        ("000009", "2009-09-21", ["0000000008741"], ["POREF00", "POREF01"],
         ("UP", "0000000000642"), "12"),
    "x12_856__nodex12_856.edi":
        ("829716", "2011-12-06", ["5787970539"], ["99999817"], ("VP", "87787D"), "24"),
    "x12_856__oopfactory_example1.edi":
        ("123456", "2001-04-20", [], ["123456"], ("CB", "1234-123456"), "16"),
    "x12_856__oopfactory_example2.edi":
        (None, "2003-06-19", ["88145"], ["B00000389", "B00003489"], ("BP", "rt2371"), "1400"),
    "x12_856__oopfactory_example3.edi":
        ("146940", "2005-04-12", ["0123456789"], ["5500005194"], ("BP", "000 260 056 524"),
         "1596"),
    "x12_856__oopfactory_example4.edi":
        ("DELIVERYNUMBER", "2011-09-09", ["620940"], ["PO NUMBER"], ("SK", "100014544"), "10"),
    "x12_856__oopfactory_fromgregarican.edi":
        ("521649209219", "2012-05-10", ["521649209219"], ["SO/VINCE1"],
         ("UP", "883932284904"), "1"),
    "x12_856__x12types_004060.edi":
        ("829716", "2011-12-06", ["5787970539"], ["99999817"], ("VP", "87787D"), "24"),
}
# fmt: on


@needs_corpus
@pytest.mark.parametrize(
    ("name", "shipment", "ship_date", "tracking", "pos", "first_item", "quantity"),
    [(name, *values) for name, values in SPOT_856.items()],
    ids=list(SPOT_856),
)
def test_856_corpus_spot_checks(name, shipment, ship_date, tracking, pos, first_item, quantity):
    (notice,) = read_856s(corpus(name))
    assert notice.shipment_id == shipment
    assert notice.ship_date == dt.date.fromisoformat(ship_date)
    assert list(notice.tracking_numbers) == tracking
    assert [order.purchase_order_number for order in notice.orders] == pos
    item = notice.orders[0].items[0]
    assert item.item_ids[0] == ItemId(*first_item)
    assert item.quantity_shipped == Decimal(quantity)


@needs_corpus
def test_856_hierarchy_reductions():
    crossdock = read_856s(corpus("x12_856__ediengine_crossdock_ok.edi"))[0]  # S/O/P/I
    assert [len(order.items) for order in crossdock.orders] == [4, 1]
    assert crossdock.orders[0].items[1].item_ids == (ItemId("EN", "0000000000831"),)
    assert crossdock.orders[0].items[0].package_ids == ("00000715670002152360",)
    assert crossdock.orders[1].parties[0].role == "BY"
    assert crossdock.carrier == Carrier(scac="OVNT", routing="OVERNITE")
    assert crossdock.bill_of_lading == "000001"

    no_parents = read_856s(corpus("x12_856__oopfactory_example4.edi"))[0]  # HL02 left empty
    assert [item.line_number for item in no_parents.orders[0].items] == [
        "001", "002", "003", "004", "005", "006", "007",
    ]  # fmt: skip
    assert no_parents.orders[0].items[0].quantity_ordered == 10

    no_order_level = read_856s(corpus("x12_856__oopfactory_example3.edi"))[0]  # S/I, PRF on items
    (order,) = no_order_level.orders
    assert order.purchase_order_date == dt.date(2004, 9, 17)
    assert [item.sku for item in order.items] == ["abc123", "ZZZ123", "XXX123"]

    pick_pack = read_856s(corpus("x12_856__oopfactory_fromgregarican.edi"))[0]
    item = pick_pack.orders[0].items[0]
    assert (item.description, item.package_ids) == (
        "16X12MM SMALL WHEATON",
        ("00007121610006156802",),
    )
    assert pick_pack.carrier == Carrier(scac="FED2", routing="FEDX 2 DAY", transport_method="M")


@needs_corpus
def test_856_same_document_in_two_vendors_formats_reads_the_same():
    tilde = read_856s(corpus("x12_856__nodex12_856.edi"))
    newline = read_856s(corpus("x12_856__x12types_004060.edi"))  # newline terminator, other ISA
    assert tilde == newline
    assert tilde[0].orders[0].items[0].description == "BLUE WIDGET"
    assert tilde[0].ship_from is not None
    assert tilde[0].ship_from.name == "1 EDI SOURCE"


# -- writers and round trips --------------------------------------------------------------------

ORDER = WarehouseShippingOrder(
    depositor_order_number="FO-1001-1",
    purchase_order_number="WEB-1001",
    ship_to=Party(
        role="ST",
        name="Ada Lovelace",
        address_lines=("12 Analytical Row", "Flat 2", "Third line"),
        city="London",
        postal_code="N1 9GU",
        country="GB",
    ),
    ship_from=Party(role="SF", name="Main DC", id_qualifier="ZZ", id="DC1"),
    other_parties=(Party(role="DE", name="OMS Retail", extra_names=("Ecommerce",)),),
    references=(Reference("CO", "WEB-1001", "customer order"),),
    dates=(
        QualifiedDate("10", dt.date(2025, 3, 4)),
        QualifiedDate("02", dt.date(2025, 3, 6), "1700", "Z"),
    ),
    notes=(Note("WHI", "Gift wrap, no invoice in the box"),),
    carrier=Carrier(scac="UPSN", routing="UPS GROUND", transport_method="U", payment_method="PP"),
    lines=(
        ShippingOrderLine(
            line_number="1",
            quantity=Decimal(2),
            unit="EA",
            item_ids=(ItemId("SK", "SKU-RED"), ItemId("UP", "012345678905"), ItemId("BP", "R1")),
            description="Red widget with a description long enough to need a second G69 segment",
            references=(Reference("LI", "1"),),
        ),
        ShippingOrderLine(
            line_number="2", quantity=Decimal("1.5"), unit="LB", upc_case_code="001234567890"
        ),
    ),
    total_quantity=Decimal("3.5"),
    total_weight=Decimal("4.2"),
    weight_unit="LB",
)

ADVICE = WarehouseShippingAdvice(
    depositor_order_number="FO-1001-1",
    ship_date=dt.date(2025, 3, 4),
    shipment_id="SHP-77",
    purchase_order_number="WEB-1001",
    ship_to=ORDER.ship_to,
    ship_from=ORDER.ship_from,
    references=(Reference("BM", "BOL-1"),),
    carrier=Carrier(transport_method="U", scac="UPSN", routing="UPS GROUND", payment_method="PP"),
    lines=(
        ShipmentAdviceLine(
            line_number="1",
            status="CC",
            quantity_ordered=Decimal(2),
            quantity_shipped=Decimal(2),
            quantity_difference=Decimal(0),
            unit="EA",
            item_ids=(ItemId("SK", "SKU-RED"),),
            description="Red widget",
            references=(Reference("2I", "1Z999AA10123456784"),),
            packages=(Package("GM", "00012345678901234567"),),
        ),
        ShipmentAdviceLine(
            line_number="2",
            status="CP",
            quantity_ordered=Decimal("1.5"),
            quantity_shipped=Decimal(1),
            quantity_difference=Decimal("-0.5"),
            unit="LB",
            item_ids=(ItemId("SK", "SKU-BLUE"),),
            substituted_item=ItemId("SK", "SKU-NAVY"),
        ),
    ),
    total_units_shipped=Decimal(3),
)

ENVELOPE_ARGS = {"sender_id": "OMS", "receiver_id": "WMS-EAST", "control_number": 42, "now": NOW}


@pytest.mark.parametrize("version", ["004010", "005010"])
def test_940_round_trip(version):
    text = write_940(ORDER, **ENVELOPE_ARGS, version=version)
    interchange = parse_interchange(text)  # strict: counts and control numbers are right
    assert interchange.control_number == "000000042"
    assert interchange.groups[0].version == version
    assert interchange.groups[0].functional_id == "OW"
    assert read_940s(interchange) == (ORDER,)


def test_940_writer_output_is_the_documented_shape():
    lines = write_940(ORDER, **ENVELOPE_ARGS).splitlines()
    assert lines[0] == (
        "ISA*00*          *00*          *ZZ*OMS            *ZZ*WMS-EAST       "
        "*250303*1405*U*00401*000000042*0*P*>~"
    )
    assert len(lines[0]) == 106  # the fixed-width ISA, terminator included
    assert lines[1] == "GS*OW*OMS*WMS-EAST*20250303*1405*42*X*004010~"
    assert lines[2:4] == ["ST*940*0001~", "W05*N*FO-1001-1*WEB-1001~"]
    assert "W66*PP*U***UPS GROUND*****UPSN~" in lines
    assert "W01*2*EA**SK*SKU-RED*UP*012345678905********BP*R1~" in lines
    assert lines[-4:] == [
        "W76*3.5*4.2*LB~",
        f"SE*{len(lines) - 4}*0001~",
        "GE*1*42~",
        "IEA*1*000000042~",
    ]


def test_940_batch_and_computed_total():
    second = replace(ORDER, depositor_order_number="FO-1001-2", total_quantity=None)
    text = write_940([ORDER, second], **ENVELOPE_ARGS)
    interchange = parse_interchange(text)
    assert [ts.control_number for ts in interchange.transaction_sets] == ["0001", "0002"]
    orders = read_940s(interchange)
    assert orders[0] == ORDER
    assert orders[1] == replace(second, total_quantity=Decimal("3.5"))  # W76-01 = sum of lines


@pytest.mark.parametrize("version", ["004010", "005010"])
def test_945_round_trip(version):
    text = write_945(ADVICE, **ENVELOPE_ARGS, version=version)
    interchange = parse_interchange(text)
    assert interchange.groups[0].functional_id == "SW"
    (advice,) = read_945s(interchange)
    assert advice == ADVICE
    assert advice.tracking_numbers == ("1Z999AA10123456784",)
    assert advice.bill_of_lading == "BOL-1"


@needs_corpus
@pytest.mark.parametrize("name", [n for n in CORPUS_FILES if n.startswith(("x12_940", "x12_945"))])
def test_corpus_documents_survive_write_and_read(name):
    """Whatever the readers understood of a corpus file, the writers can say again."""
    source = corpus(name)
    if name.startswith("x12_940"):
        for order in read_940s(source, strict=False):
            if order.lines[0].quantity is None:  # the NEGATIVE file's W01 is shifted
                continue
            order = replace(
                order,
                unknown_segments=(),
                lines=tuple(replace(line, unknown_segments=()) for line in order.lines),
            )
            (again,) = read_940s(write_940(order, **ENVELOPE_ARGS))
            if order.total_quantity is None:  # the writer always sends W76, summing the lines
                order = replace(order, total_quantity=sum(line.quantity for line in order.lines))
            assert again == order
    else:
        for advice in read_945s(source, strict=False):
            advice = replace(advice, unknown_segments=())
            assert read_945s(write_945(advice, **ENVELOPE_ARGS)) == (advice,)


@pytest.mark.parametrize(
    ("document", "code"),
    [
        (replace(ORDER, depositor_order_number="FO*1"), "invalid_value"),
        (replace(ORDER, notes=(Note("WHI", "two\nlines"),)), "invalid_value"),
        (replace(ORDER, carrier=Carrier(scac="UPSN")), "invalid_value"),
        (
            replace(ORDER, lines=(ShippingOrderLine(quantity=Decimal(1), unit="EA"),)),
            "invalid_value",
        ),
        (replace(ADVICE, lines=(replace(ADVICE.lines[0], status=None),)), "invalid_value"),
    ],
    ids=["delimiter-in-value", "line-break", "w66-incomplete", "w01-no-item", "w12-no-status"],
)
def test_writers_refuse_what_they_cannot_encode(document, code):
    writer = write_940 if isinstance(document, WarehouseShippingOrder) else write_945
    with pytest.raises(X12Error) as caught:
        writer(document, **ENVELOPE_ARGS)
    assert caught.value.code == code


def test_writer_checks_the_envelope_arguments():
    with pytest.raises(X12Error, match="1-15 characters"):
        write_940(ORDER, **{**ENVELOPE_ARGS, "sender_id": "A" * 16})
    with pytest.raises(X12Error, match="control number"):
        write_940(ORDER, **{**ENVELOPE_ARGS, "control_number": 0})


@needs_corpus
def test_crlf_line_endings_read_the_same():
    original = corpus(OK_940)
    crlf = original.replace(b"\n", b"\r\n")
    assert parse_interchange(crlf).delimiters.segment == "\r"
    assert read_940s(crlf) == read_940s(original)


def test_contacts_do_not_end_a_party_loop():
    text = write_940(ORDER, **ENVELOPE_ARGS)
    text = text.replace("N1*ST*Ada Lovelace~\n", "N1*ST*Ada Lovelace~\nPER*IC*Ada~\n")
    text = text.replace("SE*23*0001", "SE*24*0001")
    (order,) = read_940s(text)
    assert order.ship_to == ORDER.ship_to
    assert [str(segment) for segment in order.unknown_segments] == ["PER*IC*Ada"]


@needs_corpus
def test_the_corpus_846s_read_their_items_and_quantities():
    (first,) = read_846s(corpus("x12_846__oopfactory_example1.edi"))
    assert (first.purpose, first.report_type, first.reference) == ("00", "CM", "10353")
    assert first.date == dt.date(2004, 8, 11)
    (item,) = first.items
    assert item.item_id("BP") == "46L5055"
    assert item.quantity("QH") == StockQuantity("QH", Decimal(100), "EA")  # unit from UIT
    assert read_document(parse_interchanges(corpus("x12_846__oopfactory_example1.edi"))[0]
                         .transaction_sets[0]) == first  # fmt: skip

    (second,) = read_846s(corpus("x12_846__oopfactory_example2.edi"), strict=False)
    assert len(second.items) == 5
    assert second.items[0].quantity("17") == StockQuantity("17", Decimal("1998.61"), "FT")
    assert second.items[0].item_id("VN") == "H304L0750040"
