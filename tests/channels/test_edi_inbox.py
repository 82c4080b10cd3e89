"""The EDI inbox on a schedule: a partner's 850 files dropped in its folder are taken by the beat
task once (the file moves out, each interchange is logged by its control number), and an
envelope the codec refuses, a duplicate interchange or a stranger's is answered with a TA1 that
the codec's own parser reads."""

import os
import time

import pytest
from django.core.management import call_command

from channels.services.edi import inbox
from channels.services.setup import create_channel
from channels.tasks import import_edi_inboxes_task
from integrations.models import InboundMessage
from integrations.x12 import parse_interchange
from orders.models import Order
from tests.channels.test_edi import WIDGETS
from tests.corpus import corpus, needs

pytestmark = [pytest.mark.django_db, needs("edi")]

OK = "x12_850__ediengine_850_ok.edi"  # one 850, ISA13 000003438 from sender ABCDEFGHIJKLMNO


@pytest.fixture
def partner(db, tmp_path, settings):
    from tests.factories.inventory import ProductFactory

    settings.OMS_X12_OUTBOX_DIR = tmp_path / "outbox"
    settings.OMS_X12_INBOX_DIR = tmp_path / "inbox"
    for sku in WIDGETS:
        ProductFactory(sku=sku, name=f"Widget {sku}", weight_grams=10)
    connection = create_channel(
        code="xyz-retail", platform="x12", settings={"default_country": "US", "our_isa_id": "OMS"}
    )
    inbox(connection).mkdir(parents=True)
    return connection


def drop(partner, name: str, text: str | None = None, *, age: float = 60.0) -> None:
    """A file in the partner's inbox, last written `age` seconds ago (settled)."""
    path = inbox(partner) / name
    path.write_text(text if text is not None else corpus(f"edi/{OK}").read_text())
    then = time.time() - age
    os.utime(path, (then, then))


def outbox_files(settings) -> list[str]:
    folder = settings.OMS_X12_OUTBOX_DIR / "channels" / "xyz-retail"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def ta1_of(settings, name: str) -> list[str]:
    text = (settings.OMS_X12_OUTBOX_DIR / "channels" / "xyz-retail" / name).read_text()
    interchange = parse_interchange(text)  # valid by the codec's own parser
    assert interchange.groups == ()
    [ta1] = interchange.acknowledgments
    return list(ta1.elements)


def test_a_dropped_850_is_taken_once_and_its_file_moves_to_processed(partner, settings):
    drop(partner, "po-1.edi")
    drop(partner, "po-late.edi", age=0)  # still being uploaded: left for the next scan

    counts = import_edi_inboxes_task()

    assert counts["xyz-retail"]["files"] == 1
    assert counts["xyz-retail"]["captured"] == 1
    assert Order.objects.count() == 1
    assert (inbox(partner) / "processed" / "po-1.edi").is_file()
    assert (inbox(partner) / "po-late.edi").is_file()
    assert outbox_files(settings) == ["997-ABCDEFGHIJKLMNO-000003438.edi"]
    assert InboundMessage.objects.filter(
        kind="channel.edi_interchange", message_id="isa:ABCDEFGHIJKLMNO:000003438"
    ).exists()
    assert import_edi_inboxes_task()["xyz-retail"]["files"] == 0  # nothing is taken twice


def test_the_same_interchange_sent_again_is_answered_with_a_ta1_duplicate(partner, settings):
    drop(partner, "po-1.edi")
    import_edi_inboxes_task()
    drop(partner, "po-1-resent.edi")  # the partner sends the interchange again

    counts = import_edi_inboxes_task()["xyz-retail"]

    assert counts["duplicate_interchange"] == 1
    assert Order.objects.count() == 1
    assert ta1_of(settings, "TA1-ABCDEFGHIJKLMNO-000003438.edi")[3:] == ["R", "025"]
    assert "997-ABCDEFGHIJKLMNO-000003438.edi" in outbox_files(settings)
    assert (inbox(partner) / "processed" / "po-1-resent.edi").is_file()


def test_a_trailer_that_disagrees_is_taken_with_errors_and_a_ta1(partner, settings):
    text = corpus(f"edi/{OK}").read_text().replace("IEA*1*000003438", "IEA*1*000003439")
    drop(partner, "po-iea.edi", text)

    counts = import_edi_inboxes_task()["xyz-retail"]

    assert counts["captured"] == 1
    assert ta1_of(settings, "TA1-ABCDEFGHIJKLMNO-000003438.edi") == [
        "000003438",
        *ta1_of(settings, "TA1-ABCDEFGHIJKLMNO-000003438.edi")[1:3],
        "E",
        "001",
    ]


def test_a_broken_envelope_is_refused_with_a_ta1_and_the_file_moves_to_failed(partner, settings):
    text = corpus(f"edi/{OK}").read_text()
    drop(partner, "po-cut.edi", text[: text.index("GE*")])  # cut off: no GE, no IEA

    counts = import_edi_inboxes_task()["xyz-retail"]

    assert counts["refused_files"] == 1
    assert not Order.objects.exists()
    [message] = InboundMessage.objects.filter(source="channel:xyz-retail", status="dead")
    assert message.error_code == "missing_trailer"
    assert ta1_of(settings, "TA1-ABCDEFGHIJKLMNO-000003438.edi")[3:] == ["R", "023"]
    assert (inbox(partner) / "failed" / "po-cut.edi").is_file()


def test_a_strangers_interchange_is_refused_with_a_ta1(partner, settings):
    partner.settings = {**partner.settings, "isa_id": "ACMEBUYER"}
    partner.save(update_fields=["settings"])
    drop(partner, "po-1.edi")

    import_edi_inboxes_task()

    assert not Order.objects.exists()
    assert ta1_of(settings, "TA1-ABCDEFGHIJKLMNO-000003438.edi")[3:] == ["R", "006"]


def test_the_command_takes_the_inbox_too(partner, settings, capsys):
    drop(partner, "po-1.edi", age=0)
    call_command("import_edi", "--channel", "xyz-retail", "--inbox")
    assert "'captured': 1" in capsys.readouterr().out
    assert Order.objects.count() == 1
