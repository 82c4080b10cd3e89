"""Which subscriber URLs we may call: checked when a subscription is saved and again right
before every send, on the addresses the name resolves to *then* (DNS rebinding). The sender
connects to the checked address itself (http.client with the name only in Host/SNI), so a
second resolution between check and connect cannot swap in an internal address.

`OMS_WEBHOOKS_ALLOW_HTTP` permits http:// and `OMS_WEBHOOKS_ALLOW_PRIVATE` permits internal
addresses: both are for local testing only.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from oms.core.errors import DomainError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data"})
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)


class WebhookUrlRefused(DomainError):
    def __init__(self, url: str, why: str) -> None:
        super().__init__(
            code="webhook_url_refused",
            detail=f"Webhook URL {url!r} is refused: {why}.",
            http_status=400,
        )


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # the name as written (Host header and TLS SNI)
    port: int
    path: str  # path + query, what goes on the request line
    addresses: tuple[IPAddress, ...]  # all checked; the sender connects to the first


def resolve(host: str, port: int) -> list[str]:
    """All addresses `host` resolves to (tests replace this)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _literal_ipv4(host: str) -> IPAddress | None:
    """inet_aton's forms too: 2130706433, 0x7f000001, 127.1, 0177.0.0.1 all mean 127.0.0.1."""
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def refusal(address: IPAddress) -> str | None:
    """Why an address may not be called, or None when it is a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return refusal(address.ipv4_mapped)
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    for flag in ("loopback", "unspecified", "link_local", "multicast", "private", "reserved"):
        if getattr(address, f"is_{flag}"):
            return f"a {flag.replace('_', '-')} address"
    if not address.is_global:
        return "not a public address"
    return None


def check_url(url: str, *, resolve_names: bool = True) -> Target:
    """Parse and check `url`; raises WebhookUrlRefused. Returns the target with the addresses
    that were checked, which the sender must connect to."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise WebhookUrlRefused(url, f"not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise WebhookUrlRefused(url, "only https (or http for local testing) is allowed")
    if scheme == "http" and not settings.OMS_WEBHOOKS_ALLOW_HTTP:
        raise WebhookUrlRefused(url, "https is required")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise WebhookUrlRefused(url, "credentials in the URL are not allowed")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise WebhookUrlRefused(url, "no host")
    port = port or (443 if scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    allow_private = settings.OMS_WEBHOOKS_ALLOW_PRIVATE
    if host in METADATA_HOSTS and not allow_private:
        raise WebhookUrlRefused(url, "a cloud metadata host")
    literal: IPAddress | None
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = _literal_ipv4(host)
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    elif not resolve_names:
        return Target(scheme, host, port, path, ())
    else:
        try:
            addresses = [ipaddress.ip_address(a.split("%")[0]) for a in resolve(host, port)]
        except (OSError, UnicodeError) as exc:
            raise WebhookUrlRefused(url, f"the host does not resolve ({exc})") from None
        if not addresses:
            raise WebhookUrlRefused(url, "the host does not resolve")
    if not allow_private:
        for address in addresses:
            why = refusal(address)
            if why is not None:
                raise WebhookUrlRefused(url, f"{host} resolves to {address}, {why}")
    return Target(scheme, host, port, path, tuple(addresses))
