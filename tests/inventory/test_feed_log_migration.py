"""inventory 0005: the feed log (InventoryFeedMessage) moves into the inbound message log.

Each test migrates inventory/integrations back to the state before the migration on PostgreSQL
(MigrationExecutor), writes rows through the historical models, migrates forward and checks
that every feed row arrived in integrations.InboundMessage with its fields, that the oversells
and the ledger point at it, and that a resend is answered from it exactly as before.
"""

import importlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from integrations.models import InboundMessage
from inventory.models import FeedKind, FeedStatus, InventoryMovement, Oversell
from inventory.services.feed_messages import FeedResult, StockChange, fingerprint
from inventory.services.feeds import apply_adjustment, apply_snapshot
from oms.core.actors import Actor

pytestmark = pytest.mark.django_db(transaction=True)

MIGRATION = "0005_feed_log_in_inbound_messages"
BEFORE = [("inventory", "0004_node_connector"), ("integrations", "0005_delivery_plural")]
AFTER = [("inventory", MIGRATION), ("integrations", "0005_delivery_plural")]
T0 = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
ACTOR = Actor.system("wms")
COUNTS = {"TEE-1": 12, "MUG-2": 4}
LINES = [("TEE-1", -2, "damaged")]


def migrate(targets: list[tuple[str, str]]) -> Any:
    """Migrate to `targets`; the historical apps of that state."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.fixture
def before():
    """The historical apps just before the migration; the database is migrated to the latest
    state again afterwards, whatever the test did."""
    apps = migrate(BEFORE)
    yield apps
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.fixture
def small_batches(monkeypatch):
    """Batches of 4 rows, so a few dozen feed rows take several batches: a ledger reference
    rewritten by one batch (old pk → new pk) must not be rewritten again by a later batch whose
    old pk equals that new pk."""
    module = importlib.import_module(f"inventory.migrations.{MIGRATION}")
    monkeypatch.setattr(module, "BATCH", 4)


def result(kind: FeedKind, status: FeedStatus, message_id: str, **extra: Any) -> dict:
    return FeedResult(
        status=status,
        kind=kind,
        node="dc-east",
        source="api:dc-east",
        message_id=message_id,
        detail=extra.pop("detail", f"{kind.label} applied."),
        **extra,
    ).as_dict()


def snapshot_print(as_of: datetime, counts: dict[str, int]) -> str:
    return fingerprint(FeedKind.SNAPSHOT, "dc-east", {"as_of": as_of.isoformat(), "counts": counts})


def adjustment_print(lines: list[tuple[str, int, str]]) -> str:
    return fingerprint(FeedKind.ADJUSTMENT, "dc-east", {"lines": lines})


class Old:
    """Rows written through the historical models of the state before the migration."""

    def __init__(self, apps: Any) -> None:
        self.apps = apps
        Node = apps.get_model("inventory", "Node")
        Product = apps.get_model("inventory", "Product")
        StockLevel = apps.get_model("inventory", "StockLevel")
        self.node = Node.objects.create(
            code="dc-east",
            name="DC East",
            kind="distribution_center",
            latitude=Decimal("39.961176"),
            longitude=Decimal("-82.998794"),
        )
        self.products = {sku: Product.objects.create(sku=sku, name=sku) for sku in COUNTS}
        self.levels = {
            sku: StockLevel.objects.create(node=self.node, product=product, on_hand=10)
            for sku, product in self.products.items()
        }

    def feed(self, message_id: str, kind: str, **fields: Any) -> Any:
        Feed = self.apps.get_model("inventory", "InventoryFeedMessage")
        fields.setdefault("source", "api:dc-east")
        fields.setdefault("status", "applied")
        fields.setdefault("fingerprint", f"{message_id:0>64}"[-64:])
        fields.setdefault("received_at", T0 + timedelta(minutes=5))
        fields.setdefault("result", {"status": fields["status"], "message_id": message_id})
        return Feed.objects.create(message_id=message_id, kind=kind, node=self.node, **fields)

    def inbound(self, message_id: str, kind: str, **fields: Any) -> Any:
        Inbound = self.apps.get_model("integrations", "InboundMessage")
        fields.setdefault("source", "api:dc-east")
        fields.setdefault("payload", {"node": "dc-east"})
        fields.setdefault("fingerprint", "f" * 64)
        fields.setdefault("received_at", T0)
        return Inbound.objects.create(message_id=message_id, kind=kind, **fields)

    def movement(self, feed: Any, sku: str, delta: int) -> Any:
        Movement = self.apps.get_model("inventory", "InventoryMovement")
        return Movement.objects.create(
            node=self.node,
            product=self.products[sku],
            delta_on_hand=delta,
            reason=feed.kind,
            reference_type="feed",
            reference_id=str(feed.pk),
            actor_kind="system",
            occurred_at=feed.received_at,
        )

    def oversell(self, feed: Any, sku: str) -> Any:
        Oversell = self.apps.get_model("inventory", "Oversell")
        return Oversell.objects.create(
            node=self.node,
            product=self.products[sku],
            stock_level=self.levels[sku],
            on_hand=1,
            reserved=3,
            shortfall=2,
            detected_at=feed.received_at,
            feed_message=feed,
        )


def as_fields(feed: Any) -> dict[str, Any]:
    return {
        "pk": feed.pk,
        "source": feed.source,
        "message_id": feed.message_id,
        "kind": feed.kind,
        "node": feed.node.code,
        "as_of": feed.as_of,
        "received_at": feed.received_at,
        "status": feed.status,
        "fingerprint": feed.fingerprint,
        "result": feed.result,
    }


def arrived(feed: dict[str, Any]) -> InboundMessage:
    """The inbound message a feed row became (found by the old pk it records)."""
    return InboundMessage.objects.get(payload__migrated_from__id=feed["pk"])


def test_every_feed_row_arrives_in_the_inbound_log_with_its_fields(before, small_batches):
    # given: the two logs before the migration
    old = Old(before)
    applied = old.feed(
        "count-1",
        "snapshot",
        as_of=T0,
        received_at=datetime(2026, 11, 20, 6, 5, 30, 123456, tzinfo=UTC),
        fingerprint=snapshot_print(T0, COUNTS),
        result=result(
            FeedKind.SNAPSHOT,
            FeedStatus.APPLIED,
            "count-1",
            detail="Snapshot applied: 1 stock level changed.",
            changed=(StockChange("TEE-1", 10, 12, 0, 12),),
        ),
    )
    stale = old.feed(
        "count-0",
        "snapshot",
        as_of=T0 - timedelta(hours=1),
        status="ignored_stale",
        received_at=T0 + timedelta(minutes=6),
        fingerprint=snapshot_print(T0 - timedelta(hours=1), {"TEE-1": 1}),
        result=result(
            FeedKind.SNAPSHOT, FeedStatus.IGNORED_STALE, "count-0", detail="Ignored: stale."
        ),
    )
    adjusted = old.feed(
        "adj-1",
        "adjustment",
        fingerprint=adjustment_print(LINES),
        result=result(FeedKind.ADJUSTMENT, FeedStatus.APPLIED, "adj-1"),
    )
    adjusted_moves = [old.movement(adjusted, "TEE-1", -2)]
    oversell = old.oversell(adjusted, "TEE-1")
    plain = [old.feed(f"bulk-{i:02d}", "adjustment") for i in range(30)]
    plain_moves = [old.movement(feed, "MUG-2", i + 1) for i, feed in enumerate(plain)]
    # and: a refusal kept in the inbound log (failed), later applied through the feed log
    refused = old.inbound(
        "adj-2",
        "inventory.adjustment",
        payload={"node": "dc-east", "lines": [{"sku": "TEE-1", "delta": -50, "reason": "x"}]},
        status="failed",
        attempts=2,
        error_code="adjustment_refused",
        error="would go negative",
        correlation_id="corr-1",
        received_at=T0 - timedelta(days=1),
    )
    refused_then_applied = old.feed("adj-2", "adjustment", received_at=T0 + timedelta(hours=1))
    # and: a refusal settled (processed) when the sender sent it again and it was applied
    settled_payload = {"node": "dc-east", "as_of": "2026-11-21T06:00:00+00:00", "counts": []}
    settled = old.inbound(
        "count-9",
        "inventory.snapshot",
        payload=settled_payload,
        status="processed",
        attempts=2,
        result={"status": "applied", "settled": True},
        received_at=T0 - timedelta(hours=2),
        processed_at=T0 + timedelta(hours=2, seconds=1),
    )
    settled_feed = old.feed(
        "count-9", "snapshot", as_of=T0 + timedelta(days=1), received_at=T0 + timedelta(hours=2)
    )
    # and: another kind of message that happens to use the same (source, message id)
    other = old.inbound("shared-1", "x12.945", source="file:dc-east", status="processed")
    sharing = old.feed("shared-1", "adjustment", source="file:dc-east")
    feeds = [
        as_fields(f)
        for f in [applied, stale, adjusted, *plain, refused_then_applied, settled_feed, sharing]
    ]

    # when
    migrate(AFTER)

    # then: the feed log is gone and every row is an inbound message
    assert "inventory_inventoryfeedmessage" not in connection.introspection.table_names()
    assert InboundMessage.objects.count() == 3 + len(feeds) - 2  # two merged
    for feed in feeds:
        message = arrived(feed)
        assert message.source == feed["source"]
        assert message.kind == f"inventory.{feed['kind']}"
        assert message.subject == feed["node"] == message.payload["node"]
        assert message.status == "processed"
        assert message.fingerprint == feed["fingerprint"]
        assert message.result == feed["result"]
        assert message.processed_at == feed["received_at"]
        assert message.payload.get("as_of") == (feed["as_of"] and feed["as_of"].isoformat())
        assert (message.error_code, message.error, message.next_attempt_at) == ("", "", None)
    for feed in feeds[:-3]:  # copied as they were
        message = arrived(feed)
        assert message.message_id == feed["message_id"]
        assert (message.received_at, message.attempts) == (feed["received_at"], 1)
        assert message.payload["migrated_from"] == {
            "model": "inventory.InventoryFeedMessage",
            "id": feed["pk"],
        }

    # and: merged into the kept refusal (its id, first receipt, payload and correlation kept)
    merged = InboundMessage.objects.get(pk=refused.pk)
    assert arrived(feeds[-3]) == merged
    assert (merged.received_at, merged.attempts, merged.correlation_id) == (
        T0 - timedelta(days=1),
        3,
        "corr-1",
    )
    assert merged.payload == {**refused.payload, "migrated_from": merged.payload["migrated_from"]}
    merged = InboundMessage.objects.get(pk=settled.pk)
    assert arrived(feeds[-2]) == merged
    assert (merged.received_at, merged.attempts) == (T0 - timedelta(hours=2), 2)
    assert merged.payload == {
        **settled_payload,
        "migrated_from": {"model": "inventory.InventoryFeedMessage", "id": settled_feed.pk},
    }

    # and: a different message holding the id is left alone; the feed is kept beside it
    assert InboundMessage.objects.get(pk=other.pk).kind == "x12.945"
    moved = arrived(feeds[-1])
    assert moved.message_id == f"shared-1#inventory-feed-{sharing.pk}"
    assert moved.payload["migrated_from"]["message_id"] == "shared-1"

    # and: the oversell and the ledger point at the new rows; the deltas are untouched
    assert Oversell.objects.get(pk=oversell.pk).feed_message == arrived(feeds[2])
    for feed, moves in [(feeds[2], adjusted_moves)] + [
        (feed, [move]) for feed, move in zip(feeds[3:33], plain_moves, strict=True)
    ]:
        message = arrived(feed)
        for move in moves:
            row = InventoryMovement.objects.get(pk=move.pk)
            assert (row.reference_type, row.reference_id) == ("feed", str(message.pk))
            assert row.delta_on_hand == move.delta_on_hand
    assert set(InventoryMovement.objects.values_list("reference_type", flat=True)) == {"feed"}


def test_a_resend_of_a_migrated_feed_is_answered_exactly_as_before(before):
    # given
    old = Old(before)
    old.feed(
        "count-1",
        "snapshot",
        as_of=T0,
        received_at=datetime(2026, 11, 20, 6, 5, 30, 123456, tzinfo=UTC),
        fingerprint=snapshot_print(T0, COUNTS),
        result=result(
            FeedKind.SNAPSHOT,
            FeedStatus.APPLIED,
            "count-1",
            detail="Snapshot applied: 1 stock level changed.",
            changed=(StockChange("TEE-1", 10, 12, 0, 12),),
        ),
    )
    old.feed(
        "count-0",
        "snapshot",
        as_of=T0 - timedelta(hours=1),
        status="ignored_stale",
        received_at=datetime(2026, 11, 20, 6, 7, tzinfo=UTC),
        fingerprint=snapshot_print(T0 - timedelta(hours=1), COUNTS),
        result=result(FeedKind.SNAPSHOT, FeedStatus.IGNORED_STALE, "count-0", detail="Old."),
    )
    old.feed(
        "adj-1",
        "adjustment",
        fingerprint=adjustment_print(LINES),
        result=result(FeedKind.ADJUSTMENT, FeedStatus.APPLIED, "adj-1", detail="Adjusted."),
    )
    migrate(AFTER)
    # and on to the latest schema: the resends go through today's services and models
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    # when: the nodes send them again
    def send_snapshot(message_id: str, as_of: datetime, counts: dict[str, int]) -> FeedResult:
        return apply_snapshot(
            node_code="dc-east",
            as_of=as_of,
            counts=counts,
            source="api:dc-east",
            message_id=message_id,
            actor=ACTOR,
        )

    again = send_snapshot("count-1", T0, {"tee-1": 12, "MUG-2": 4})
    stale_again = send_snapshot("count-0", T0 - timedelta(hours=1), COUNTS)
    adjusted_again = apply_adjustment(
        node_code="dc-east", message_id="adj-1", source="api:dc-east", lines=LINES, actor=ACTOR
    )

    # then: the old answers, word for word, and nothing changed
    assert again.as_dict() == {
        "status": "duplicate",
        "kind": "snapshot",
        "node": "dc-east",
        "source": "api:dc-east",
        "message_id": "count-1",
        "detail": "Duplicate: message 'count-1' was received at "
        "2026-11-20T06:05:30.123456+00:00 (applied). Nothing changed.",
        "duplicate": True,
        "changed": [
            {"sku": "TEE-1", "on_hand_before": 10, "on_hand": 12, "reserved": 0, "available": 12}
        ],
        "oversells": [],
    }
    assert stale_again.detail == (
        "Duplicate: message 'count-0' was received at 2026-11-20T06:07:00+00:00 "
        "(ignored: not newer than the last snapshot). Nothing changed."
    )
    assert (adjusted_again.status, adjusted_again.duplicate) == ("duplicate", True)
    assert adjusted_again.detail.startswith("Duplicate: message 'adj-1' was received at")
    assert not InventoryMovement.objects.exists()
    assert InboundMessage.objects.count() == 3


def test_migrating_back_restores_the_feed_log(before):
    # given: migrated forward
    old = Old(before)
    feeds = [
        old.feed("count-1", "snapshot", as_of=T0, fingerprint="a" * 64),
        old.feed("adj-1", "adjustment", status="applied", fingerprint="b" * 64),
        old.feed("count-0", "snapshot", as_of=T0 - timedelta(hours=1), status="ignored_stale"),
    ]
    moves = [old.movement(feeds[1], "TEE-1", -1)]
    oversell = old.oversell(feeds[1], "TEE-1")
    expected = [as_fields(feed) for feed in feeds]
    migrate(AFTER)

    # when
    apps = migrate(BEFORE)

    # then: the same rows (new ids), the oversell and the ledger pointing at them
    Feed = apps.get_model("inventory", "InventoryFeedMessage")
    restored = {feed.message_id: feed for feed in Feed.objects.select_related("node")}
    assert len(restored) == len(expected)
    for feed in expected:
        row = as_fields(restored[feed["message_id"]])
        assert {**row, "pk": None} == {**feed, "pk": None}
    adjustment = restored["adj-1"]
    Oversell_ = apps.get_model("inventory", "Oversell")
    assert Oversell_.objects.get(pk=oversell.pk).feed_message_id == adjustment.pk
    Movement = apps.get_model("inventory", "InventoryMovement")
    assert Movement.objects.get(pk=moves[0].pk).reference_id == str(adjustment.pk)
