import pytest

from tests.corpus import corpus

CORPUS = corpus("carriers")
PAYLOAD = (
    CORPUS / "easypost__tracking_webhook_tracker_updated_ups.json"
)  # a signed EasyPost webhook
SECRET = "whsec-test"  # noqa: S105


@pytest.fixture
def easypost_secret(settings) -> str:
    """EasyPost webhooks signed with SECRET are accepted; unsigned ones are refused."""
    settings.OMS_CARRIER_WEBHOOK_SECRETS = {
        **settings.OMS_CARRIER_WEBHOOK_SECRETS,
        "easypost": SECRET,
    }
    settings.OMS_CARRIER_WEBHOOKS_ALLOW_UNSIGNED = False
    return SECRET
