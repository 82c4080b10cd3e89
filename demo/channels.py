"""The demo's sales channels: a web shop, the stores' POS and a marketplace, all in USD."""

from orders.models import Channel

# Channel code and name.
CHANNELS: tuple[tuple[str, str], ...] = (
    ("web", "Web shop"),
    ("pos", "Stores POS"),
    ("marketplace", "Marketplace"),
)


def upsert_channels() -> int:
    """Create or refresh the demo channels; returns how many there are."""
    for code, name in CHANNELS:
        Channel.objects.update_or_create(
            code=code, defaults={"name": name, "default_currency": "USD", "is_active": True}
        )
    return Channel.objects.filter(code__in=[code for code, _ in CHANNELS]).count()
