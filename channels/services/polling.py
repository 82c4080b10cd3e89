"""Polling platforms that do not push orders (Amazon SP-API): read what changed since the stored
cursor, apply each order as a notice (channels/services/inbound.py), then move the cursor.

The cursor moves only after every order of the run was applied or kept as refused, so a run that
dies is repeated from the old cursor; the orders it already applied are duplicates in the log.
"""

import logging
from typing import Any

from channels.adapters import adapter_for
from channels.adapters.base import CallFailed
from channels.http import Client
from channels.models import ChannelConnection, Platform
from channels.services.inbound import receive_notice

logger = logging.getLogger(__name__)

POLLED = (Platform.AMAZON,)


def poll_channel(*, connection_id: int) -> dict[str, Any]:
    connection = ChannelConnection.objects.select_related("channel").get(pk=connection_id)
    adapter = adapter_for(connection.platform)
    if adapter is None or not connection.inbound_enabled or not connection.base_url:
        return {"channel": connection.code, "skipped": True}
    client = Client(base_url=connection.base_url)
    try:
        adapter.authenticate(client, connection)
        notices, cursor = adapter.poll(client, connection)
    except CallFailed as exc:
        logger.warning(
            "channel poll failed", extra={"channel": connection.code, "error": exc.detail}
        )
        return {"channel": connection.code, "error": exc.detail}
    counts: dict[str, Any] = {"channel": connection.code, "orders": len(notices)}
    for notice in notices:
        status = receive_notice(connection, notice)["status"]
        counts[status] = counts.get(status, 0) + 1
    ChannelConnection.objects.filter(pk=connection.pk).update(cursor=cursor)
    return counts


def poll_channels() -> list[dict[str, Any]]:
    ids = ChannelConnection.objects.filter(platform__in=POLLED, inbound_enabled=True).values_list(
        "pk", flat=True
    )
    return [poll_channel(connection_id=pk) for pk in ids]
