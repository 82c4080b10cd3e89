"""Feed services: apply_snapshot (full counts) and apply_adjustment (deltas)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from fulfillment.tasks import allocate_backorders_task
from integrations.models import InboundMessage
from inventory.exceptions import AdjustmentRefused, MessageIdReused
from inventory.models import InventoryMovement, Oversell, OversellStatus, StockLevel
from inventory.reservations import ReservationRequest, reserve
from inventory.selectors import find_ledger_mismatches
from inventory.services.feeds import apply_adjustment, apply_snapshot, build_snapshot_counts
from inventory.services.oversells import resolve_oversell
from oms.core.actors import Actor
from oms.core.errors import InvalidInput, TransitionRefused
from oms.events.models import Event
from tests.factories.inventory import NodeFactory, OrderLineFactory, ProductFactory, stocked

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("wms")
T0 = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


@pytest.fixture
def node():
    return NodeFactory(code="dc-east")


@pytest.fixture
def levels(node):
    """TEE 10 on hand, MUG 4 on hand, at dc-east, through the ledger."""
    return {
        "TEE": stocked(node, ProductFactory(sku="TEE"), on_hand=10),
        "MUG": stocked(node, ProductFactory(sku="MUG"), on_hand=4),
    }


def on_hand(levels) -> dict[str, int]:
    for level in levels.values():
        level.refresh_from_db()
    return {sku: level.on_hand for sku, level in levels.items()}


def snapshot(counts, *, as_of=T0, message_id="count-1", source="wms"):
    return apply_snapshot(
        node_code="dc-east",
        as_of=as_of,
        counts=counts,
        source=source,
        message_id=message_id,
        actor=ACTOR,
    )


def adjust(lines, *, message_id="adj-1", source="wms"):
    return apply_adjustment(
        node_code="dc-east", message_id=message_id, source=source, lines=lines, actor=ACTOR
    )


def reserve_units(level: StockLevel, quantity: int) -> None:
    line = OrderLineFactory(product=level.product)
    with transaction.atomic():
        [done] = reserve(
            requests=[ReservationRequest(level.node_id, level.product_id, quantity, line.pk)],
            actor=ACTOR,
            reference_id="OMS-FEED-0001",
        )
    assert done is not None


def feed_events() -> list[tuple[str, int]]:
    return list(
        Event.objects.filter(stream="node:dc-east")
        .exclude(type="inventory.stock_initialized")
        .order_by("seq")
        .values_list("type", "seq")
    )


# --- snapshots ---------------------------------------------------------------------------


def test_snapshot_sets_counts_zeroes_unlisted_products_and_creates_missing_rows(node, levels):
    # given
    ProductFactory(sku="CAP")

    # when
    result = snapshot({"tee": 12, "CAP": 3})

    # then
    assert (result.status, result.duplicate) == ("applied", False)
    assert result.detail == "Snapshot applied: 3 stock levels changed."
    assert {(c.sku, c.on_hand_before, c.on_hand) for c in result.changed} == {
        ("TEE", 10, 12),
        ("MUG", 4, 0),
        ("CAP", 0, 3),
    }
    assert on_hand(levels) == {"TEE": 12, "MUG": 0}
    assert StockLevel.objects.get(node=node, product__sku="CAP").on_hand == 3
    assert set(StockLevel.objects.filter(node=node).values_list("last_reported_at", flat=True)) == {
        T0
    }
    node.refresh_from_db()
    assert node.last_snapshot_at == T0
    message = InboundMessage.objects.get()
    assert (message.source, message.message_id, message.kind, message.subject) == (
        "wms",
        "count-1",
        "inventory.snapshot",
        "dc-east",
    )
    assert (message.status, message.attempts, message.result) == ("processed", 1, result.as_dict())
    assert message.payload == {  # as sent: enough to apply it again
        "node": "dc-east",
        "as_of": "2026-11-20T06:00:00+00:00",
        "counts": [{"sku": "tee", "on_hand": 12}, {"sku": "CAP", "on_hand": 3}],
    }
    snapshot_rows = InventoryMovement.objects.filter(reason="snapshot")
    assert set(snapshot_rows.values_list("product__sku", "delta_on_hand", "reference_id")) == {
        ("TEE", 2, str(message.pk)),
        ("MUG", -4, str(message.pk)),
        ("CAP", 3, str(message.pk)),
    }
    assert set(snapshot_rows.values_list("reference_type", "source_system", "occurred_at")) == {
        ("feed", "wms", T0)
    }
    assert find_ledger_mismatches() == []
    event = Event.objects.get(type="inventory.snapshot_applied")
    assert event.stream == "node:dc-east"
    assert event.payload["skus_counted"] == 2
    assert event.payload["stock_levels"] == 3
    assert event.payload["as_of"] == "2026-11-20T06:00:00+00:00"


@pytest.mark.parametrize(
    ("_case", "as_of"), [("older", T0 - timedelta(seconds=1)), ("same time", T0)]
)
def test_a_snapshot_not_newer_than_the_last_one_is_ignored_and_says_so(levels, _case, as_of):
    # given
    snapshot({"TEE": 7, "MUG": 1})
    movements_before = InventoryMovement.objects.count()

    # when
    result = snapshot({"TEE": 99, "MUG": 99}, as_of=as_of, message_id="count-0")

    # then
    assert result.status == "ignored_stale"
    assert result.changed == ()
    assert "not newer than the last one applied (2026-11-20T06:00:00+00:00)" in result.detail
    assert on_hand(levels) == {"TEE": 7, "MUG": 1}
    assert InventoryMovement.objects.count() == movements_before
    stale = InboundMessage.objects.get(message_id="count-0")
    assert (stale.status, stale.result["status"]) == ("processed", "ignored_stale")
    assert feed_events() == [("inventory.snapshot_applied", 3)]


def test_a_resent_snapshot_returns_the_first_result_and_changes_nothing(levels):
    # given
    first = snapshot({"TEE": 7, "MUG": 1})

    # when
    again = snapshot({"TEE": 7, "MUG": 1})

    # then
    assert (again.status, again.duplicate) == ("duplicate", True)
    assert again.changed == first.changed
    message = InboundMessage.objects.get()
    assert again.detail == (
        f"Duplicate: message 'count-1' was received at {message.processed_at.isoformat()} "
        "(applied). Nothing changed."
    )
    assert on_hand(levels) == {"TEE": 7, "MUG": 1}
    assert (message.status, message.attempts) == ("processed", 1)
    assert InventoryMovement.objects.filter(reason="snapshot").count() == 2
    assert len(feed_events()) == 1


def test_the_same_message_id_with_other_content_is_refused(levels):
    # given
    snapshot({"TEE": 7, "MUG": 1})

    # when
    with pytest.raises(MessageIdReused) as raised:
        snapshot({"TEE": 8, "MUG": 1}, as_of=T0 + timedelta(hours=1))

    # then
    assert raised.value.code == "message_id_reused"
    assert on_hand(levels) == {"TEE": 7, "MUG": 1}


def test_an_invalid_snapshot_reports_every_error_and_changes_nothing(levels):
    # given
    before = (on_hand(levels), InventoryMovement.objects.count(), Event.objects.count())

    # when
    with pytest.raises(InvalidInput) as raised:
        apply_snapshot(
            node_code="dc-east",
            as_of=T0,
            counts={"TEE": 1, "NOPE": 2, "MUG": -1},
            source="wms",
            message_id="bad",
            actor=ACTOR,
        )

    # then
    assert [(e.code, e.field) for e in raised.value.errors] == [
        ("unknown_sku", "counts[1].sku"),
        ("negative_count", "counts[2].on_hand"),
    ]
    assert (on_hand(levels), InventoryMovement.objects.count(), Event.objects.count()) == before
    assert not InboundMessage.objects.filter(status="processed").exists()


@pytest.mark.parametrize(
    ("_case", "node_code", "counts", "as_of", "expected"),
    [
        ("unknown node", "nowhere", {"TEE": 1}, T0, [("unknown_node", "node")]),
        ("empty", "dc-east", {}, T0, [("empty_snapshot", "counts")]),
        (
            "naive as_of",
            "dc-east",
            {"TEE": 1},
            T0.replace(tzinfo=None),
            [("naive_datetime", "as_of")],
        ),
    ],
)
def test_snapshot_refusals(levels, _case, node_code, counts, as_of, expected):
    # when
    with pytest.raises(InvalidInput) as raised:
        apply_snapshot(
            node_code=node_code, as_of=as_of, counts=counts, source="w", message_id="m", actor=ACTOR
        )

    # then
    assert [(e.code, e.field) for e in raised.value.errors] == expected
    assert on_hand(levels) == {"TEE": 10, "MUG": 4}
    assert not InboundMessage.objects.filter(status="processed").exists()


def test_build_snapshot_counts_refuses_a_sku_listed_twice():
    # when
    with pytest.raises(InvalidInput) as raised:
        build_snapshot_counts([("tee", 1), ("MUG", 2), (" TEE", 3)])

    # then
    assert [(e.code, e.field) for e in raised.value.errors] == [("duplicate_sku", "counts[2].sku")]


def test_a_count_below_reserved_opens_an_oversell(levels):
    # given
    reserve_units(levels["TEE"], 6)

    # when
    result = snapshot({"TEE": 4, "MUG": 4})

    # then
    oversell = Oversell.objects.get()
    assert (oversell.on_hand, oversell.reserved, oversell.shortfall, oversell.status) == (
        4,
        6,
        2,
        OversellStatus.OPEN,
    )
    assert oversell.feed_message == InboundMessage.objects.get()
    assert [o.as_dict() for o in result.oversells] == [
        {"oversell_id": oversell.pk, "sku": "TEE", "on_hand": 4, "reserved": 6, "shortfall": 2}
    ]
    assert result.detail.endswith("1 oversold (on hand below reserved): see `oversells`.")
    levels["TEE"].refresh_from_db()
    assert (levels["TEE"].on_hand, levels["TEE"].reserved, levels["TEE"].available) == (4, 6, -2)
    assert feed_events() == [("inventory.snapshot_applied", 3), ("inventory.oversold", 4)]
    snapshot_event, oversold = Event.objects.filter(stream="node:dc-east", seq__in=[3, 4])
    assert oversold.causation_id == snapshot_event.event_id
    assert oversold.payload == {
        "oversell_id": oversell.pk,
        "sku": "TEE",
        "on_hand": 4,
        "reserved": 6,
        "shortfall": 2,
        "cause": "snapshot",
        "source": "wms",
        "message_id": "count-1",
    }


def test_a_later_count_refreshes_the_open_oversell_instead_of_opening_another(levels):
    # given
    reserve_units(levels["TEE"], 6)
    snapshot({"TEE": 4, "MUG": 4})

    # when: the same shortfall, then a worse one
    snapshot({"TEE": 4, "MUG": 4}, as_of=T0 + timedelta(hours=1), message_id="count-2")
    snapshot({"TEE": 1, "MUG": 4}, as_of=T0 + timedelta(hours=2), message_id="count-3")

    # then
    oversell = Oversell.objects.get()
    assert (oversell.on_hand, oversell.shortfall) == (1, 5)
    assert [t for t, _ in feed_events()] == [
        "inventory.snapshot_applied",
        "inventory.oversold",
        "inventory.snapshot_applied",
        "inventory.snapshot_applied",
        "inventory.oversold",
    ]


def test_resolving_an_oversell_records_it_once(levels):
    # given
    reserve_units(levels["TEE"], 6)
    snapshot({"TEE": 4, "MUG": 4})
    oversell = Oversell.objects.get()

    # when
    resolve_oversell(oversell_id=oversell.pk, actor=ACTOR, note="rerouted 2 units")
    with pytest.raises(TransitionRefused) as raised:
        resolve_oversell(oversell_id=oversell.pk, actor=ACTOR)

    # then
    assert raised.value.code == "oversell_not_open"
    oversell.refresh_from_db()
    assert (oversell.status, oversell.resolution_note) == ("resolved", "rerouted 2 units")
    assert Event.objects.get(type="inventory.oversell_resolved").payload == {
        "oversell_id": oversell.pk,
        "sku": "TEE",
        "shortfall": 2,
        "note": "rerouted 2 units",
    }


def test_a_snapshot_that_adds_stock_schedules_backorder_allocation_on_commit(
    levels, django_capture_on_commit_callbacks
):
    # given
    reserve_units(levels["MUG"], 4)  # MUG: 4 on hand, 4 reserved, 0 available

    # when
    with django_capture_on_commit_callbacks() as callbacks:
        snapshot({"TEE": 5, "MUG": 6})

    # then: MUG rose to 2 available; TEE fell
    assert [(c.func, c.args) for c in callbacks] == [
        (allocate_backorders_task.delay, ([levels["MUG"].product_id],))
    ]


def test_a_snapshot_that_adds_no_available_stock_schedules_nothing(
    levels, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        snapshot({"TEE": 3, "MUG": 4})

    # then
    assert callbacks == []


# --- adjustments -------------------------------------------------------------------------


def test_an_adjustment_applies_each_line_through_the_ledger(levels):
    # when
    result = adjust([("tee", -3, "damaged"), ("MUG", 2, "found"), ("TEE", 1, "found")])

    # then
    assert (result.status, result.kind) == ("applied", "adjustment")
    assert [(c.sku, c.on_hand_before, c.on_hand) for c in result.changed] == [
        ("TEE", 10, 8),
        ("MUG", 4, 6),
    ]
    assert on_hand(levels) == {"TEE": 8, "MUG": 6}
    message = InboundMessage.objects.get()
    assert (message.kind, message.status) == ("inventory.adjustment", "processed")
    assert message.payload == {
        "node": "dc-east",
        "lines": [
            {"sku": "tee", "delta": -3, "reason": "damaged"},
            {"sku": "MUG", "delta": 2, "reason": "found"},
            {"sku": "TEE", "delta": 1, "reason": "found"},
        ],
    }
    assert list(
        InventoryMovement.objects.filter(reason="adjustment", reference_type="feed").values_list(
            "product__sku", "delta_on_hand", "note", "reference_id"
        )
    ) == [
        ("TEE", -3, "damaged", str(message.pk)),
        ("MUG", 2, "found", str(message.pk)),
        ("TEE", 1, "found", str(message.pk)),
    ]
    assert find_ledger_mismatches() == []
    assert feed_events() == [("inventory.adjusted", 3)]
    assert Event.objects.get(type="inventory.adjusted").payload["lines"] == [
        {"sku": "TEE", "delta": -3, "reason": "damaged"},
        {"sku": "MUG", "delta": 2, "reason": "found"},
        {"sku": "TEE", "delta": 1, "reason": "found"},
    ]


def test_an_adjustment_is_applied_once_per_message(levels):
    # given
    first = adjust([("TEE", -3, "damaged")])

    # when
    again = adjust([("TEE", -3, "damaged")])

    # then
    assert (again.status, again.duplicate, again.changed) == ("duplicate", True, first.changed)
    assert on_hand(levels) == {"TEE": 7, "MUG": 4}
    assert InventoryMovement.objects.filter(reference_type="feed").count() == 1
    assert feed_events() == [("inventory.adjusted", 3)]


def test_an_adjustment_that_would_go_negative_is_refused_whole(levels):
    # given
    before = (InventoryMovement.objects.count(), Event.objects.count())

    # when
    with pytest.raises(AdjustmentRefused) as raised:
        adjust([("MUG", 5, "found"), ("TEE", -11, "lost"), ("MUG", -10, "lost")])

    # then
    assert raised.value.code == "adjustment_refused"
    assert raised.value.http_status == 409
    assert [(e.code, e.field) for e in raised.value.errors] == [
        ("on_hand_would_go_negative", "lines[1].delta"),
        ("on_hand_would_go_negative", "lines[2].delta"),
    ]
    assert on_hand(levels) == {"TEE": 10, "MUG": 4}
    assert (InventoryMovement.objects.count(), Event.objects.count()) == before
    # not applied (kept as failed, for the record): the sender may resend it later
    assert not InboundMessage.objects.filter(status="processed").exists()


def test_a_refused_adjustment_for_a_product_the_node_lacks_creates_no_stock_row(node, levels):
    # given
    ProductFactory(sku="CAP")

    # when
    with pytest.raises(AdjustmentRefused):
        adjust([("CAP", -1, "lost")])

    # then
    assert not StockLevel.objects.filter(node=node, product__sku="CAP").exists()


def test_adjustment_input_errors(levels):
    # when
    with pytest.raises(InvalidInput) as raised:
        adjust([("TEE", 0, ""), ("NOPE", 1, "")])

    # then
    assert [(e.code, e.field) for e in raised.value.errors] == [
        ("zero_delta", "lines[0].delta"),
        ("unknown_sku", "lines[1].sku"),
    ]
    assert on_hand(levels) == {"TEE": 10, "MUG": 4}


def test_an_adjustment_below_reserved_opens_an_oversell(levels):
    # given
    reserve_units(levels["MUG"], 3)

    # when
    result = adjust([("MUG", -2, "damaged")])

    # then
    assert [(o.sku, o.on_hand, o.reserved, o.shortfall) for o in result.oversells] == [
        ("MUG", 2, 3, 1)
    ]
    assert Oversell.objects.get().shortfall == 1
    assert [t for t, _ in feed_events()] == ["inventory.adjusted", "inventory.oversold"]
    assert Event.objects.get(type="inventory.oversold").payload["cause"] == "adjustment"
