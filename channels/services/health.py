"""Per-channel health (the admin list and the dashboard): last message in, last call out,
failures, lag, and a "test connection" call."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Min, Q
from django.utils import timezone

from channels.adapters import adapter_for
from channels.adapters.base import CallFailed
from channels.http import Client
from channels.models import ChannelConnection, OutboundCall, OutboundStatus
from integrations.models import InboundMessage, InboundStatus
from oms.core.errors import DomainError


@dataclass(frozen=True)
class Health:
    code: str
    platform: str
    last_in_at: datetime | None
    last_out_at: datetime | None
    refused_in: int  # inbound messages failed or dead
    dead_out: int  # calls back that gave up
    pending_out: int
    lag: timedelta | None  # age of the oldest pending call back


def channel_health(*, connection_id: int | None = None) -> list[Health]:
    found = ChannelConnection.objects.select_related("channel").order_by("channel__code")
    if connection_id is not None:
        found = found.filter(pk=connection_id)
    connections = list(found)
    calls: dict[int, dict[str, Any]] = {
        row["connection_id"]: dict(row)
        for row in OutboundCall.objects.filter(connection__in=connections)
        .values("connection_id")
        .annotate(
            dead=Count("id", filter=Q(status=OutboundStatus.DEAD)),
            pending=Count("id", filter=Q(status=OutboundStatus.PENDING)),
            oldest=Min("created_at", filter=Q(status=OutboundStatus.PENDING)),
        )
    }
    refused = dict(
        InboundMessage.objects.filter(
            source__in=[c.source for c in connections],
            status__in=[InboundStatus.FAILED, InboundStatus.DEAD],
        )
        .values("source")
        .annotate(n=Count("id"))
        .values_list("source", "n")
    )
    now = timezone.now()
    result = []
    for c in connections:
        row: dict[str, Any] = calls.get(c.pk, {})
        oldest = row.get("oldest")
        result.append(
            Health(
                code=c.code,
                platform=c.get_platform_display(),
                last_in_at=c.last_in_at,
                last_out_at=c.last_out_at,
                refused_in=refused.get(c.source, 0),
                dead_out=row.get("dead", 0),
                pending_out=row.get("pending", 0),
                lag=(now - oldest) if oldest else None,
            )
        )
    return result


class ConnectionFailed(DomainError):
    def __init__(self, detail: str) -> None:
        super().__init__(code="connection_failed", detail=detail, http_status=409)


def test_connection(*, connection_id: int) -> str:
    """One read-only call to the platform with the stored credentials; what it answered."""
    connection = ChannelConnection.objects.select_related("channel").get(pk=connection_id)
    adapter = adapter_for(connection.platform)
    if adapter is None or not connection.base_url:
        raise ConnectionFailed(f"{connection.code} has no endpoint base URL.")
    client = Client(base_url=connection.base_url)
    try:
        adapter.authenticate(client, connection)
        adapter.ping(client, connection)
    except CallFailed as exc:
        raise ConnectionFailed(f"{connection.code}: {exc.detail}") from None
    last = client.log[-1] if client.log else {}
    request = f"{last.get('method', '')} {last.get('path', '')}"
    return f"{connection.code}: {request} answered {last.get('status', '')}"
