"""set_channel_cutover(): copy a channel's approved cutover plan onto the channel row.

The migration app approves plans (migration/services/cutover.py) and calls this in the same
transaction, so capture reads who owns a new order from the channel row it already has
(orders/ownership.py) and the row is never out of step with the active plan.
"""

from decimal import Decimal
from typing import Any

from oms.core.errors import NotFound
from oms.core.transactions import require_atomic
from orders.models import Channel


def set_channel_cutover(
    *, channel_id: int, mode: str, share: Decimal, narrowing: dict[str, Any]
) -> Channel:
    """Locks the channel row. The caller records the event (the plan's approval)."""
    require_atomic("set_channel_cutover()")
    channel = Channel.objects.select_for_update(of=("self",)).filter(pk=channel_id).first()
    if channel is None:
        raise NotFound(f"No channel {channel_id}.", code="channel_not_found")
    channel.cutover_mode = mode
    channel.cutover_share = share
    channel.cutover_narrowing = narrowing
    channel.save(update_fields=["cutover_mode", "cutover_share", "cutover_narrowing", "updated_at"])
    return channel
