"""The demo's B2B EDI channel: `edi-demo`, a trading partner (ISA id ABCDEFGHIJKLMNO) whose X12 850
purchase order (demo/fixtures, from the shared corpus) is dropped in its inbox folder and taken
the way the `import-edi-inboxes` beat task takes it: an order, a 997 in its outbox folder (and
its 855 once routed), the file moved to `processed/`. The partner then sends the same
interchange again, which is answered with a TA1 (R 025, duplicate) and not read twice.

The partner's item numbers (PO1 VN) are cross-referenced to six demo catalogue products.
Idempotent: once the interchange is logged, a second seed drops nothing.
"""

import shutil
from pathlib import Path

from channels.models import ChannelConnection
from channels.services.edi import import_edi_inbox, inbox
from channels.services.setup import create_channel
from integrations.services import already_processed

CODE = "edi-demo"
PARTNER = "ABCDEFGHIJKLMNO"  # ISA06 of the fixture
INTERCHANGE = f"isa:{PARTNER}:000003438"
FIXTURE = Path(__file__).with_name("fixtures") / "x12_850_po_08292233294.edi"
PARTNER_PARTS = ("AB3542", "RD5322", "XY5266", "VX2332", "RV0524", "DX1875")  # PO1 VN ids


def connect_demo_edi(demo_skus: list[str]) -> dict[str, int]:
    """The EDI channel with its cross-reference to `demo_skus`, and its purchase order taken
    from the inbox (sent twice); what the inbox scan counted (empty on a second seed)."""
    connection = (
        ChannelConnection.objects.select_related("channel").filter(channel__code=CODE).first()
    )
    if connection is None:
        connection = create_channel(
            code=CODE,
            platform="x12",
            name="XYZ Retail (EDI demo)",
            settings={
                "isa_id": PARTNER,
                "our_isa_id": "OMSDEMO",
                "default_country": "US",
                "sku_xref": {
                    f"VN:{part}": sku for part, sku in zip(PARTNER_PARTS, demo_skus, strict=True)
                },
            },
        )
    if already_processed(source=connection.source, message_id=INTERCHANGE):
        return {}
    folder = inbox(connection)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(FIXTURE, folder / "PO-08292233294.edi")
    first = import_edi_inbox(connection, min_age_seconds=0)
    shutil.copyfile(FIXTURE, folder / "PO-08292233294-resent.edi")
    again = import_edi_inbox(connection, min_age_seconds=0)
    return {key: first.get(key, 0) + again.get(key, 0) for key in {*first, *again}}
