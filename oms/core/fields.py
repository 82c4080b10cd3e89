"""Model fields of the kernel: EncryptedTextField keeps a secret encrypted at rest.

The value is a Fernet token in the database (AES-128-CBC + HMAC-SHA256, `cryptography`) and the
clear text on the model instance. Keys come from settings.OMS_FIELD_ENCRYPTION_KEYS: the first
encrypts, every one decrypts, so a new key goes in front and old tokens still read
(docs/security.md, "Webhook secrets at rest"). Tokens are not deterministic: the column cannot
be searched by value.
"""

from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("OMS_FIELD_ENCRYPTION_KEY is empty.")
    try:
        return MultiFernet([Fernet(key.strip().encode()) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(f"OMS_FIELD_ENCRYPTION_KEY is not a Fernet key: {exc}") from None


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.OMS_FIELD_ENCRYPTION_KEYS))


def encrypt(clear: str) -> str:
    return fernet().encrypt(clear.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "An encrypted field does not decrypt with OMS_FIELD_ENCRYPTION_KEY: the key changed "
            "(keep the old one after the new one in the list)."
        ) from None


class EncryptedTextField(models.TextField):
    """Clear on the instance, a Fernet token in the column. Empty stays empty."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)
