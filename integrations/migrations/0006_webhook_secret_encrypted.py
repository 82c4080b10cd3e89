"""Webhook signing secrets encrypted at rest (oms/core/fields.py), and the previous secret kept
for the overlap after a rotation. Existing secrets are encrypted in place; the reverse decrypts
them before the column goes back to varchar(100)."""

import integrations.models
import oms.core.fields
from django.db import migrations, models


TABLE = "integrations_webhooksubscription"


def _rewrite(schema_editor, convert) -> None:
    # Raw SQL: the model state's field would already try to decrypt the clear values.
    connection = schema_editor.connection
    table = connection.ops.quote_name(TABLE)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, secret FROM {table}")  # noqa: S608 - a constant name
        rows = cursor.fetchall()
        for pk, value in rows:
            cursor.execute(
                f"UPDATE {table} SET secret = %s WHERE id = %s",  # noqa: S608
                [convert(value), pk],
            )


def encrypt_secrets(apps, schema_editor) -> None:
    _rewrite(schema_editor, oms.core.fields.encrypt)


def decrypt_secrets(apps, schema_editor) -> None:
    _rewrite(schema_editor, oms.core.fields.decrypt)


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0005_delivery_plural"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalwebhooksubscription",
            name="previous_secret_expires_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="webhooksubscription",
            name="previous_secret",
            field=oms.core.fields.EncryptedTextField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="webhooksubscription",
            name="previous_secret_expires_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AlterField(
            model_name="webhooksubscription",
            name="secret",
            field=oms.core.fields.EncryptedTextField(
                default=integrations.models._new_webhook_secret, editable=False
            ),
        ),
        migrations.RunPython(encrypt_secrets, decrypt_secrets, elidable=False),
    ]
