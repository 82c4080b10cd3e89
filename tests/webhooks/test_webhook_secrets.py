"""Webhook signing secrets at rest and their rotation (docs/security.md): the column holds a
Fernet token, not the secret; after a rotation deliveries carry both signatures for the
overlap, then only the new one's; the admin action shows the new secret once."""

import importlib
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from standardwebhooks import Webhook, WebhookVerificationError

from integrations.models import DeliveryStatus, WebhookSubscription, new_webhook_secret
from oms.core.fields import decrypt
from tests.admin.conftest import client_for, messages_of
from tests.factories.users import staff_user
from tests.webhooks.test_webhook_admin import SUBSCRIPTIONS, run_action
from tests.webhooks.test_webhooks_sending import delivery_to, local, running_receiver  # noqa: F401
from webhooks import sending
from webhooks.subscriptions import rotate_secret

pytestmark = pytest.mark.django_db
migration = importlib.import_module("integrations.migrations.0006_webhook_secret_encrypted")


def stored_secret(sub: WebhookSubscription) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT secret, previous_secret FROM integrations_webhooksubscription WHERE id = %s",
            [sub.pk],
        )
        return cursor.fetchone()


def verifies(secret: str, headers: dict[str, str], body: bytes) -> bool:
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True


def test_the_stored_secret_is_a_fernet_token_not_the_secret():
    sub = WebhookSubscription.objects.create(name="t", url="https://x.example", event_types=["*"])
    sub.refresh_from_db()

    stored, previous = stored_secret(sub)

    assert sub.secret.startswith("whsec_")
    assert stored != sub.secret
    assert "whsec_" not in stored
    assert stored.startswith("gAAAAA")  # Fernet version byte
    assert decrypt(stored) == sub.secret
    assert previous == ""


def test_during_the_overlap_a_delivery_verifies_with_the_old_and_the_new_secret(local):  # noqa: F811
    with running_receiver() as receiver:
        delivery = delivery_to(receiver.url)
        old = delivery.subscription.secret
        rotated = rotate_secret(delivery.subscription.pk)
        assert sending.send_delivery(delivery.pk) == DeliveryStatus.DELIVERED

    headers, body = receiver.received[0]
    assert rotated.secret != old
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert verifies(old, headers, body)
    assert verifies(rotated.secret, headers, body)
    assert not verifies(new_webhook_secret(), headers, body)
    stored, previous = stored_secret(rotated)
    assert old not in previous
    assert rotated.secret not in stored


def test_after_the_overlap_only_the_new_secret_verifies(local, settings):  # noqa: F811
    settings.OMS_WEBHOOK_SECRET_OVERLAP = timedelta(hours=24)
    with running_receiver() as receiver:
        delivery = delivery_to(receiver.url)
        old = delivery.subscription.secret
        rotated = rotate_secret(delivery.subscription.pk)
        assert rotated.previous_secret_expires_at - timezone.now() > timedelta(hours=23)
        WebhookSubscription.objects.filter(pk=rotated.pk).update(
            previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
        )
        assert sending.send_delivery(delivery.pk) == DeliveryStatus.DELIVERED

    headers, body = receiver.received[0]
    assert len(headers["webhook-signature"].split(" ")) == 1
    assert verifies(rotated.secret, headers, body)
    assert not verifies(old, headers, body)


def test_the_admin_action_rotates_and_shows_the_new_secret_once():
    sub = WebhookSubscription.objects.create(name="erp", url="https://x.example", event_types=["*"])
    old = sub.secret
    ops = client_for(staff_user("ops", "ops_admin"))

    response = run_action(ops, SUBSCRIPTIONS, "rotate_secret", sub.pk)

    sub.refresh_from_db()
    assert sub.secret != old
    assert sub.previous_secret == old
    shown = " ".join(text for _, text in messages_of(response))
    assert sub.secret in shown
    assert old not in shown


def test_the_migration_encrypts_existing_secrets_and_its_reverse_decrypts_them():
    sub = WebhookSubscription.objects.create(name="t", url="https://x.example", event_types=["*"])
    clear = sub.secret

    migration.decrypt_secrets(None, connection.schema_editor())
    assert stored_secret(sub)[0] == clear  # as before the migration
    migration.encrypt_secrets(None, connection.schema_editor())

    assert stored_secret(sub)[0] != clear
    sub.refresh_from_db()
    assert sub.secret == clear
