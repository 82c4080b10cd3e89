"""`manage.py import_inventory`: CSV counts and adjustments, all rows or nothing."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from integrations.models import InboundMessage
from inventory.models import InventoryMovement
from tests.factories.inventory import on_hand

pytestmark = pytest.mark.django_db


def run(tmp_path, text: str, *args: str) -> tuple[str, str]:
    path = tmp_path / "inventory.csv"
    path.write_text(text)
    out, err = StringIO(), StringIO()
    call_command("import_inventory", str(path), "--node", "dc-east", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


SNAPSHOT = ("--kind", "snapshot", "--as-of", "2026-11-20T06:00:00Z")


def test_a_snapshot_file_is_applied_and_summarised(tmp_path, levels):
    # when
    out, err = run(tmp_path, "sku,on_hand\ntee-1,12\nMUG-2,4\n", *SNAPSHOT, "--message-id", "c-1")

    # then
    assert out.splitlines() == [
        "snapshot c-1 for dc-east: applied. Snapshot applied: 1 stock level changed.",
        "  TEE-1: on hand 10 → 12",
    ]
    assert err == ""
    assert on_hand(levels) == {"TEE": 12, "MUG": 4}
    message = InboundMessage.objects.get()
    assert (message.source, message.message_id, message.status) == (
        "file:dc-east",
        "c-1",
        "processed",
    )


def test_importing_the_same_file_twice_applies_it_once(tmp_path, levels):
    # given
    run(tmp_path, "sku,delta,reason\nTEE-1,-1,damaged\n", "--kind", "adjustment")

    # when
    out, _ = run(tmp_path, "sku,delta,reason\nTEE-1,-1,damaged\n", "--kind", "adjustment")

    # then
    assert ": duplicate. Duplicate: message 'sha256:" in out
    assert on_hand(levels) == {"TEE": 9, "MUG": 4}


def test_bad_rows_are_all_reported_and_nothing_is_applied(tmp_path, levels):
    # given
    path = tmp_path / "inventory.csv"
    path.write_text("sku,on_hand\nTEE-1,3\n,4\nMUG-2,many\nCAP,-1\n")
    err = StringIO()

    # when
    with pytest.raises(CommandError) as raised:
        call_command("import_inventory", str(path), "--node", "dc-east", *SNAPSHOT, stderr=err)

    # then
    assert str(raised.value) == "Nothing was applied: 3 errors. Fix the file and run again."
    assert err.getvalue().splitlines() == [
        "row 3: required: The SKU is empty.",
        "row 4: not_an_integer: on_hand 'many' is not a whole number.",
        "row 5: negative_count: A count cannot be negative (-1).",
    ]
    assert on_hand(levels) == {"TEE": 10, "MUG": 4}
    assert not InboundMessage.objects.exists()


def test_the_error_report_names_rows_codes_and_messages(tmp_path, levels):
    # given
    path = tmp_path / "inventory.csv"
    path.write_text("sku,on_hand\nTEE-1,3\nNOPE,4\nMUG-2,1\nALSO-NOPE,2\n")
    err = StringIO()

    # when
    with pytest.raises(CommandError):
        call_command("import_inventory", str(path), "--node", "dc-east", *SNAPSHOT, stderr=err)

    # then: unknown SKUs are found by the service and mapped back to their rows
    assert err.getvalue().splitlines() == [
        "row 3: unknown_sku: No product with SKU 'NOPE'.",
        "row 5: unknown_sku: No product with SKU 'ALSO-NOPE'.",
    ]
    assert on_hand(levels) == {"TEE": 10, "MUG": 4}


def test_an_adjustment_that_would_go_negative_names_the_row(tmp_path, levels):
    # given
    path = tmp_path / "adjust.csv"
    path.write_text("sku,delta,reason\nTEE-1,-2,damaged\n\nMUG-2,-5,lost\n")
    err = StringIO()

    # when
    with pytest.raises(CommandError):
        call_command(
            "import_inventory", str(path), "--node", "dc-east", "--kind", "adjustment", stderr=err
        )

    # then
    assert err.getvalue().splitlines() == [
        "row 4: on_hand_would_go_negative: MUG-2: on hand would become -1."
    ]
    assert on_hand(levels) == {"TEE": 10, "MUG": 4}
    assert not InventoryMovement.objects.filter(reference_type="feed").exists()


@pytest.mark.parametrize(
    ("_case", "text", "args", "expected"),
    [
        (
            "wrong header",
            "sku,qty\nTEE-1,1\n",
            SNAPSHOT,
            "row 1: bad_header: Expected the columns sku,on_hand; got sku,qty.",
        ),
        (
            "snapshot without --as-of",
            "sku,on_hand\nTEE-1,1\n",
            ("--kind", "snapshot"),
            "file: invalid_as_of: --as-of must be an ISO 8601 date-time.",
        ),
        ("no rows", "sku,on_hand\n", SNAPSHOT, "file: empty_file: The file has no data rows."),
        (
            "unknown node",
            "sku,on_hand\nTEE-1,1\n",
            SNAPSHOT,
            None,
        ),
    ],
)
def test_file_level_refusals(tmp_path, levels, _case, text, args, expected):
    # given
    path = tmp_path / "inventory.csv"
    path.write_text(text)
    err = StringIO()
    node = "dc-nowhere" if expected is None else "dc-east"

    # when
    with pytest.raises(CommandError):
        call_command("import_inventory", str(path), "--node", node, *args, stderr=err)

    # then
    assert err.getvalue().splitlines() == [
        expected or "file: unknown_node: No node with code 'dc-nowhere'."
    ]
    assert on_hand(levels) == {"TEE": 10, "MUG": 4}
