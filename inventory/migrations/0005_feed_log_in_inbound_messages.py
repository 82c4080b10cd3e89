"""One inbound log for inventory feeds: every `inventory.InventoryFeedMessage` row is copied into
`integrations.InboundMessage`, the references to it are moved over, and the model is deleted.

Each feed row becomes a processed inbound message:

- source, message_id: the same (the log is unique on them, like the feed log was);
- kind: `inventory.snapshot` / `inventory.adjustment`; subject: the node's code;
- fingerprint, result: the same (the feed's own content fingerprint, so a resend is still
  recognised, and the result a resend is answered with);
- status: `applied` and `ignored_stale` (and `duplicate`, never stored) become `processed`;
  the feed's own status stays in `result["status"]`;
- received_at and processed_at: the feed row's received_at (the duplicate answer's time);
  attempts 1;
- payload: `{"node": code, "as_of": iso (snapshots), "migrated_from": {"model":
  "inventory.InventoryFeedMessage", "id": <old pk>}}`. The feed log did not keep the content
  (counts, lines), so these rows cannot be applied again, and need not be: processed messages
  are never re-processed. The old pk stays findable (events recorded before this migration
  carry it as `feed_message_id`).

When an inbound message with the same (source, message_id) already exists, the two are merged
into that row (its id is kept: exception cases may point at it):

- of an inventory kind (a refusal of the feed kept before or after it was applied; settled to
  processed when the feed was applied through the API or a re-process): it becomes the processed
  row above, taking kind, subject, fingerprint and result from the feed row; received_at is the
  earlier of the two (the first receipt), processed_at the feed row's received_at; a row that
  was not processed counts one attempt more (the applying one) and its error is cleared. Its
  payload (the content the sender sent last under that id, for a settled row what was applied)
  is kept, with `migrated_from` added.
- of another kind (a different message that happens to share source and id: the two logs had
  separate namespaces): that row is left alone and the feed row is copied under the message id
  `<message_id>#inventory-feed-<old pk>`, the original id kept in `migrated_from.message_id`.
  (A resend of that feed under its original id is then refused as `message_id_reused`.)

Moved over as well: `Oversell.feed_message` (now a foreign key to the inbound message) and the
ledger's feed references (`InventoryMovement` rows with reference_type `feed`: reference_id, the
old pk, becomes the inbound message's pk; deltas are not touched).

Nothing is lost: the feed log is locked against writes for the migration (PostgreSQL), copied
in batches, and the migration fails (and rolls back) unless every feed row and every oversell's
feed reference arrived. Reversing copies the processed `inventory.*` inbound messages back into
a feed log (skipping those whose node code no longer exists) and points the oversells and the
ledger at it; the inbound messages stay.
"""

from datetime import datetime
from typing import Any

import django.db.models.deletion
from django.db import migrations, models

SNAPSHOT_KIND = "inventory.snapshot"
ADJUSTMENT_KIND = "inventory.adjustment"
INBOUND_KIND = {"snapshot": SNAPSHOT_KIND, "adjustment": ADJUSTMENT_KIND}
FEED_KIND = {inbound: feed for feed, inbound in INBOUND_KIND.items()}
FEED_STATUSES = ("applied", "ignored_stale", "duplicate")
FEED_REFERENCE = "feed"
REPOINTED = "feed (repointed)"  # while this migration runs
MIGRATED_FROM = "inventory.InventoryFeedMessage"
PROCESSED = "processed"
BATCH = 1000
MERGED_FIELDS = [
    "kind",
    "subject",
    "payload",
    "fingerprint",
    "status",
    "attempts",
    "error_code",
    "error",
    "result",
    "received_at",
    "processed_at",
    "next_attempt_at",
]


def lock_feed_log(apps: Any, schema_editor: Any) -> None:
    """No feed is applied by code still running meanwhile (it would be lost with the table).
    Taken first, before the oversells, in the order a feed writes them: no deadlock."""
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        Feed = apps.get_model("inventory", "InventoryFeedMessage")
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {_table(connection, Feed)} IN EXCLUSIVE MODE")


def copy_feed_log(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    db = connection.alias
    Feed = apps.get_model("inventory", "InventoryFeedMessage")
    Inbound = apps.get_model("integrations", "InboundMessage")
    Oversell = apps.get_model("inventory", "Oversell")
    total = Feed.objects.using(db).count()
    moved = 0
    last = 0
    while True:
        feeds = list(
            Feed.objects.using(db)
            .filter(pk__gt=last)
            .select_related("node")
            .order_by("pk")[:BATCH]
        )
        if not feeds:
            break
        last = feeds[-1].pk
        new_pk = _to_inbound_messages(Inbound, db, feeds)
        arrived = Inbound.objects.using(db).filter(pk__in=new_pk.values()).count()
        if len(new_pk) != len(feeds) or arrived != len(feeds):
            raise RuntimeError(f"feed messages {feeds[0].pk}..{last}: not all copied")
        _repoint(apps, connection, new_pk, oversell_from="feed_message_id", to="feed_inbound_id")
        moved += len(feeds)
    if moved != total:
        raise RuntimeError(f"{moved} of {total} feed messages copied")
    unlinked = Oversell.objects.using(db).filter(
        feed_message__isnull=False, feed_inbound__isnull=True
    )
    if unlinked.exists():
        raise RuntimeError(f"oversells left without their feed message: {unlinked.count()}")
    _end_repointing(apps, db)


def _to_inbound_messages(Inbound: Any, db: str, feeds: list[Any]) -> dict[int, int]:
    """{feed pk: inbound message pk} for one batch, creating or merging the rows."""
    pairs = {(feed.source, feed.message_id) for feed in feeds}
    existing = {
        (row.source, row.message_id): row
        for row in Inbound.objects.using(db)
        .select_for_update()
        .filter(
            source__in={source for source, _ in pairs},
            message_id__in={message_id for _, message_id in pairs},
        )
        if (row.source, row.message_id) in pairs
    }
    created: list[tuple[int, Any]] = []
    merged: list[tuple[int, Any]] = []
    for feed in feeds:
        legacy: dict[str, Any] = {"model": MIGRATED_FROM, "id": feed.pk}
        row = existing.get((feed.source, feed.message_id))
        if row is not None and row.kind in FEED_KIND:
            _merge(row, feed, legacy)
            merged.append((feed.pk, row))
            continue
        message_id = feed.message_id
        if row is not None:  # another kind of message holds (source, message_id)
            message_id = f"{feed.message_id}#inventory-feed-{feed.pk}"
            legacy["message_id"] = feed.message_id
        payload: dict[str, Any] = {"node": feed.node.code}
        if feed.as_of is not None:
            payload["as_of"] = feed.as_of.isoformat()
        payload["migrated_from"] = legacy
        message = Inbound(
            source=feed.source,
            message_id=message_id,
            kind=INBOUND_KIND[feed.kind],
            subject=feed.node.code,
            payload=payload,
            fingerprint=feed.fingerprint,
            status=PROCESSED,
            attempts=1,
            result=feed.result,
            received_at=feed.received_at,
            processed_at=feed.received_at,
        )
        created.append((feed.pk, message))
    Inbound.objects.using(db).bulk_create([message for _, message in created])
    Inbound.objects.using(db).bulk_update([row for _, row in merged], MERGED_FIELDS)
    return {feed_pk: message.pk for feed_pk, message in created + merged}


def _merge(row: Any, feed: Any, legacy: dict[str, Any]) -> None:
    if row.status != PROCESSED:
        row.attempts += 1  # the attempt that applied it, counted in the feed log only
        row.error_code, row.error, row.next_attempt_at = "", "", None
    row.status = PROCESSED
    row.kind, row.subject = INBOUND_KIND[feed.kind], feed.node.code
    row.fingerprint, row.result = feed.fingerprint, feed.result
    row.received_at = min(row.received_at, feed.received_at)
    row.processed_at = feed.received_at
    if isinstance(row.payload, dict):
        row.payload = {**row.payload, "migrated_from": legacy}
    else:
        row.payload = {"content": row.payload, "migrated_from": legacy}


def _repoint(
    apps: Any, connection: Any, new_pk: dict[int, int], *, oversell_from: str, to: str
) -> None:
    """Point the oversells (column `oversell_from` → `to`) and the ledger's feed references at
    the new rows, one statement each per batch (UPDATE ... FROM (VALUES ...), PostgreSQL and
    SQLite). Rewritten ledger rows are marked REPOINTED until the end (`_end_repointing`), so a
    later batch whose old pk equals a new one does not rewrite them again."""
    if not new_pk:
        return
    Oversell = apps.get_model("inventory", "Oversell")
    Movement = apps.get_model("inventory", "InventoryMovement")
    qn = connection.ops.quote_name
    pairs = list(new_pk.items())
    with connection.cursor() as cursor:
        values = ", ".join(["(CAST(%s AS BIGINT), CAST(%s AS BIGINT))"] * len(pairs))
        cursor.execute(
            f"UPDATE {_table(connection, Oversell)} SET {qn(to)} = v.column2 "
            f"FROM (VALUES {values}) AS v WHERE {qn(oversell_from)} = v.column1",
            [n for pair in pairs for n in pair],
        )
        values = ", ".join(["(CAST(%s AS VARCHAR(100)), CAST(%s AS VARCHAR(100)))"] * len(pairs))
        cursor.execute(
            f"UPDATE {_table(connection, Movement)} "
            f"SET {qn('reference_id')} = v.column2, {qn('reference_type')} = %s "
            f"FROM (VALUES {values}) AS v "
            f"WHERE {qn('reference_type')} = %s AND {qn('reference_id')} = v.column1",
            [REPOINTED, *(str(n) for pair in pairs for n in pair), FEED_REFERENCE],
        )


def _end_repointing(apps: Any, db: str) -> None:
    Movement = apps.get_model("inventory", "InventoryMovement")
    Movement.objects.using(db).filter(reference_type=REPOINTED).update(
        reference_type=FEED_REFERENCE
    )


def _table(connection: Any, model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def restore_feed_log(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    db = connection.alias
    Feed = apps.get_model("inventory", "InventoryFeedMessage")
    Inbound = apps.get_model("integrations", "InboundMessage")
    nodes = dict(apps.get_model("inventory", "Node").objects.using(db).values_list("code", "pk"))
    last = 0
    while True:
        rows = list(
            Inbound.objects.using(db)
            .filter(kind__in=FEED_KIND, status=PROCESSED, pk__gt=last)
            .order_by("pk")[:BATCH]
        )
        if not rows:
            break
        last = rows[-1].pk
        restored = []
        for row in rows:
            payload = row.payload if isinstance(row.payload, dict) else {}
            legacy = payload.get("migrated_from") or {}
            message_id = legacy.get("message_id", row.message_id)
            result = row.result if isinstance(row.result, dict) else {}
            if row.subject not in nodes or len(message_id) > 100 or not result:
                continue
            as_of = payload.get("as_of") if row.kind == SNAPSHOT_KIND else None
            status = result.get("status")
            feed = Feed(
                source=row.source,
                message_id=message_id,
                kind=FEED_KIND[row.kind],
                node_id=nodes[row.subject],
                as_of=datetime.fromisoformat(as_of) if as_of else None,
                received_at=row.processed_at or row.received_at,
                status=status if status in FEED_STATUSES else "applied",
                fingerprint=row.fingerprint,
                result=result,
            )
            restored.append((row.pk, feed))
        Feed.objects.using(db).bulk_create([feed for _, feed in restored])
        _repoint(
            apps,
            connection,
            {row_pk: feed.pk for row_pk, feed in restored},
            oversell_from="feed_inbound_id",
            to="feed_message_id",
        )
    _end_repointing(apps, db)


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0005_delivery_plural"),
        ("inventory", "0004_node_connector"),
    ]

    operations = [
        migrations.RunPython(lock_feed_log, migrations.RunPython.noop),
        migrations.AddField(
            model_name="oversell",
            name="feed_inbound",
            field=models.ForeignKey(
                blank=True,
                help_text=(
                    "The feed that revealed (or last refreshed) it, in the inbound message log."
                ),
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="integrations.inboundmessage",
            ),
        ),
        migrations.RunPython(copy_feed_log, restore_feed_log),
        migrations.RemoveField(model_name="oversell", name="feed_message"),
        migrations.RenameField(
            model_name="oversell", old_name="feed_inbound", new_name="feed_message"
        ),
        migrations.DeleteModel(name="InventoryFeedMessage"),
    ]
