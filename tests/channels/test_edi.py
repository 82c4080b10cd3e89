"""B2B EDI: every corpus 850 becomes an order or a refused message with a code; the 997, the 855
(after routing: accepted, backordered, rejected lines) and the 856 come out valid by the X12
codec's own parser."""

from pathlib import Path

import pytest
from django.core.management import call_command

from channels.models import OutboundCall, OutboundStatus
from channels.services.edi import import_interchange
from channels.services.outbound import send_call
from channels.services.setup import create_channel
from integrations.models import InboundMessage
from integrations.x12 import parse_interchange, read_856s
from orders.models import Order
from tests.corpus import corpus, needs

pytestmark = [pytest.mark.django_db, needs("edi")]

WIDGETS = ("AB3542", "RD5322", "XY5266", "VX2332", "RV0524", "DX1875")  # the VN parts of the 850s
GOLDEN = {
    # file: one outcome per 850 in it (captured, or the refusal's code)
    "x12_850__ediengine_850_ok.edi": ["captured"],
    "x12_850__edinet_850a.edi": ["unknown_sku"],
    # the same interchange sent twice: the second is answered with a TA1 (R 025), not read
    "x12_850__nodex12_850_fat.edi": ["captured", "duplicate_interchange"],
    "x12_850__oopfactory_example1_pgwglass.edi": ["unknown_sku"],
    "x12_850__oopfactory_example3_adobe_clp.edi": ["unknown_sku"],
}


@pytest.fixture
def partner(db, tmp_path, settings):
    from tests.factories.inventory import ProductFactory

    settings.OMS_X12_OUTBOX_DIR = tmp_path
    for sku in WIDGETS:
        ProductFactory(sku=sku, name=f"Widget {sku}", weight_grams=10)
    return create_channel(
        code="xyz-retail", platform="x12", settings={"default_country": "US", "our_isa_id": "OMS"}
    )


def outcome(result: dict) -> str:
    return result["code"] if result["status"] == "refused" else result["status"]


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_every_corpus_850_becomes_an_order_or_a_refusal_with_a_code_and_a_valid_997(partner, name):
    result = import_interchange(partner, corpus(f"edi/{name}").read_bytes(), name=name)

    assert result.refused == ""
    assert [outcome(r) for r in result.results] == GOLDEN[name]
    assert result.acks_997
    for text in result.acks_997:
        ack = parse_interchange(text)  # valid by the codec's own parser
        [group] = ack.groups
        assert group.functional_id == "FA"
        assert {ts.id for ts in group.transaction_sets} == {"997"}
        segments = [s.id for ts in group.transaction_sets for s in ts.segments]
        assert segments[0] == "AK1"
        assert segments[-1] == "AK9"
        assert "A" in [
            s.get(1) for ts in group.transaction_sets for s in ts.segments if s.id == "AK5"
        ]
    refused = InboundMessage.objects.filter(source="channel:xyz-retail", status="dead")
    assert sorted(m.error_code for m in refused) == sorted(
        o for o in GOLDEN[name] if o not in ("captured", "duplicate_interchange")
    )


def test_the_captured_850_is_the_canonical_order(partner):
    import_interchange(partner, corpus("edi/x12_850__ediengine_850_ok.edi").read_bytes())
    order = Order.objects.get()
    assert (order.external_id, order.currency, order.ship_city, order.ship_region) == (
        "08292233294",
        "USD",
        "SOLON",
        "OH",
    )
    assert [
        (x.sku, x.quantity, str(x.unit_price), x.external_line_id)
        for x in order.lines.order_by("line_number")
    ] == [
        ("AB3542", 120, "9.2500", "1"),
        ("RD5322", 220, "13.7900", "2"),
        ("XY5266", 126, "10.9900", "3"),
        ("VX2332", 76, "4.3500", "4"),
        ("RV0524", 72, "7.5000", "5"),
        ("DX1875", 696, "9.5500", "6"),
    ]
    assert str(order.grand_total) == "13045.9400"  # the 850's AMT*1


def test_a_broken_file_and_a_stranger_are_refused_whole_another_set_is_rejected_in_the_997(partner):
    ok = corpus("edi/x12_850__ediengine_850_ok.edi").read_bytes()
    assert (
        import_interchange(partner, ok[: len(ok) // 2], name="cut.edi").refused == "missing_trailer"
    )
    not_a_po = import_interchange(partner, corpus("edi/x12_940__ediengine_940_ok.edi").read_bytes())
    assert not_a_po.results == [{"status": "refused", "code": "unsupported_transaction_set"}]
    [ack] = not_a_po.acks_997
    assert "AK5*R*5~" in ack
    assert "AK9*R*1*1*0~" in ack
    partner.settings = {**partner.settings, "isa_id": "SOMEONE-ELSE"}
    partner.save(update_fields=["settings"])
    ok = corpus("edi/x12_850__ediengine_850_ok.edi").read_bytes()
    assert import_interchange(partner, ok).refused == "unknown_trading_partner"
    assert not Order.objects.exists()
    assert not Order.objects.exists()


def test_855_after_routing_lists_accepted_backordered_and_rejected_lines(
    partner, warehouse, django_capture_on_commit_callbacks
):
    from inventory.models import Product
    from tests.factories.inventory import stocked

    # stock for the first two widgets only; the sixth is not in our catalogue: rejected
    for sku in WIDGETS[:2]:
        stocked(warehouse, Product.objects.get(sku=sku), on_hand=1000)
    Product.objects.filter(sku="DX1875").delete()
    partner.settings = {**partner.settings, "reject_unknown_lines": True}
    partner.save(update_fields=["settings"])
    warehouse.connector_settings = {"behaviour": "accept_only", "step_seconds": 0}
    warehouse.save(update_fields=["connector_settings"])

    with django_capture_on_commit_callbacks(execute=True):
        import_interchange(partner, corpus("edi/x12_850__ediengine_850_ok.edi").read_bytes())

    call = OutboundCall.objects.get(action="acknowledge")
    assert call.status == OutboundStatus.SENT, call.last_error
    text = (Path(partner_outbox(partner)) / call.response["file"]).read_text()
    [ts] = parse_interchange(text).transaction_sets  # valid by the codec's own parser
    assert ts.id == "855"
    acks = [(s.get(1), s.get(2)) for s in ts.segments if s.id == "ACK"]
    assert acks == [
        ("IA", "120"),
        ("IA", "220"),
        ("IB", "126"),
        ("IB", "76"),
        ("IB", "72"),
        ("IR", "0"),
    ]
    bak = next(s for s in ts.segments if s.id == "BAK")
    assert (bak.get(2), bak.get(3), bak.get(8)) == ("AC", "08292233294", Order.objects.get().number)


def test_an_855_waits_for_routing(partner):
    import_interchange(partner, corpus("edi/x12_850__ediengine_850_ok.edi").read_bytes())
    call = OutboundCall.objects.get(action="acknowledge")
    assert send_call(call.pk) == "pending"  # not routed yet (no stock anywhere, no node): retried
    call.refresh_from_db()
    assert "not routed" in call.last_error


def test_a_shipment_becomes_an_856_with_the_tracking_number(
    partner, warehouse, django_capture_on_commit_callbacks
):
    from inventory.models import Product
    from tests.factories.inventory import stocked

    for sku in WIDGETS:
        stocked(warehouse, Product.objects.get(sku=sku), on_hand=1000)
    with django_capture_on_commit_callbacks(execute=True):
        import_interchange(partner, corpus("edi/x12_850__ediengine_850_ok.edi").read_bytes())
    order = Order.objects.get()
    from fulfillment.models import FulfillmentOrder

    tracking = FulfillmentOrder.objects.get(order=order).shipments.get().tracking_number
    call = OutboundCall.objects.get(action="fulfill")
    text = (Path(partner_outbox(partner)) / call.response["file"]).read_text()
    [notice] = read_856s(text)  # valid by the codec's own 856 reader
    assert tracking in notice.tracking_numbers
    [po] = notice.orders
    assert po.purchase_order_number == "08292233294"
    assert sum(item.quantity_shipped for item in po.items) == 120 + 220 + 126 + 76 + 72 + 696


def test_import_edi_command(partner, capsys):
    call_command(
        "import_edi", "--channel", "xyz-retail", str(corpus("edi/x12_850__ediengine_850_ok.edi"))
    )
    out = capsys.readouterr().out
    assert "captured OMS-" in out
    assert "997 written" in out


def partner_outbox(connection) -> Path:
    from channels.adapters.x12 import outbox

    return outbox(connection)
