"""Which subscriber URLs we may call: checked when a subscription is saved and again right
before every send, on the addresses the name resolves to *then* (DNS rebinding). The sender
connects to the checked address itself (http.client with the name only in Host/SNI), so a
second resolution between check and connect cannot swap in an internal address.

Only globally routable unicast addresses pass. The rules are explicit tables (below), not only
`ipaddress`'s `is_global`: that flag depends on the Python version and is too lax for this
(3.12.1 calls 2002:7f00:1:: (6to4 of 127.0.0.1), fec0::1 (site-local), ff02::1 (multicast),
64:ff9b::7f00:1 (NAT64 of 127.0.0.1) and ::ffff:127.0.0.1 "global"). `is_global` is still
consulted last, as a backstop. Every refusal carries a stable reason code
(`WebhookUrlRefused.reason`, in the API's `extra.reason`); docs/security.md lists them.

Decisions:
- IPv6 must lie in 2000::/3 (the only range IANA allocates as global unicast); everything else
  (::/8 with its mapped and compatible forms, 64:ff9b::/96, 100::/64, fc00::/7, fe80::/10,
  fec0::/10, ff00::/8, 5f00::/16, ...) is refused.
- Tunnel and translation prefixes are refused **whole**, whatever IPv4 address they embed:
  6to4 (2002::/16), Teredo (2001::/32), NAT64 (64:ff9b::/96, 64:ff9b:1::/48), IPv4-mapped
  (::ffff:0:0/96) and IPv4-compatible (::/96). A relay or translator decapsulates to the
  embedded IPv4 address, which may be internal *from the relay's side*; checking only the
  embedded address would also trust how every relay on the path parses it. No real webhook
  receiver needs these forms: give it a native IPv4 or IPv6 address.
- A host whose last label is a number (WHATWG's "ends in a number": `2130706433`, `0177.0.0.1`,
  `0x7f.1`, `127.1`, `1.2.3.010`) must be a canonical dotted quad, or it is refused as
  ambiguous: resolvers and libraries disagree on what those spellings mean. The same holds for
  a DNS answer that is not a canonical address.
- Hosts are IDNA-normalised first, so fullwidth digits (`１２７.０.０.１`) are checked as the
  ASCII address they become.

`OMS_WEBHOOKS_ALLOW_HTTP` permits http:// and `OMS_WEBHOOKS_ALLOW_PRIVATE` permits
non-global addresses: both are for local testing only. Neither lifts the URL form rules
(credentials, ambiguous IPv4 spellings, scoped addresses).
"""

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from oms.core.errors import DomainError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data"})
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)


@dataclass(frozen=True)
class Rule:
    network: Network
    reason: str  # stable code
    why: str  # words for people


def _rules(rows: list[tuple[str, str, str]]) -> tuple[Rule, ...]:
    return tuple(Rule(ipaddress.ip_network(net), reason, why) for net, reason, why in rows)


# First match wins, so more specific networks come before the ones containing them.
IPV4_RULES = _rules(
    [
        ("0.0.0.0/32", "unspecified", "the unspecified address"),
        ("0.0.0.0/8", "this_network", 'a "this network" address (0.0.0.0/8)'),
        ("10.0.0.0/8", "private", "a private address (10/8)"),
        ("100.64.0.0/10", "shared", "a shared (carrier-grade NAT) address (100.64/10)"),
        ("127.0.0.0/8", "loopback", "a loopback address"),
        ("169.254.0.0/16", "link_local", "a link-local address"),
        ("172.16.0.0/12", "private", "a private address (172.16/12)"),
        ("192.0.0.0/24", "special_purpose", "an IETF protocol assignment (192.0.0/24)"),
        ("192.0.2.0/24", "documentation", "a documentation address (TEST-NET-1)"),
        ("192.88.99.0/24", "6to4", "the deprecated 6to4 relay anycast (192.88.99/24)"),
        ("192.168.0.0/16", "private", "a private address (192.168/16)"),
        ("198.18.0.0/15", "benchmarking", "a benchmarking address (198.18/15)"),
        ("198.51.100.0/24", "documentation", "a documentation address (TEST-NET-2)"),
        ("203.0.113.0/24", "documentation", "a documentation address (TEST-NET-3)"),
        ("224.0.0.0/4", "multicast", "a multicast address"),
        ("255.255.255.255/32", "broadcast", "the broadcast address"),
        ("240.0.0.0/4", "reserved", "a reserved address (240/4)"),
    ]
)

IPV6_RULES = _rules(
    [
        ("::/128", "unspecified", "the unspecified address"),
        ("::1/128", "loopback", "a loopback address"),
        ("::ffff:0:0/96", "ipv4_mapped", "an IPv4-mapped address (::ffff:0:0/96)"),
        ("::/96", "ipv4_compatible", "an IPv4-compatible address (::/96)"),
        ("64:ff9b::/96", "nat64", "a NAT64 address (64:ff9b::/96)"),
        ("64:ff9b:1::/48", "nat64", "a local-use NAT64 address (64:ff9b:1::/48)"),
        ("100::/64", "discard", "a discard-only address (100::/64)"),
        ("fc00::/7", "unique_local", "a unique-local address (fc00::/7)"),
        ("fe80::/10", "link_local", "a link-local address"),
        ("fec0::/10", "site_local", "a site-local address (fec0::/10)"),
        ("ff00::/8", "multicast", "a multicast address"),
        ("2001::/32", "teredo", "a Teredo address (2001::/32)"),
        ("2001:2::/48", "benchmarking", "a benchmarking address (2001:2::/48)"),
        ("2001:db8::/32", "documentation", "a documentation address (2001:db8::/32)"),
        ("2001::/23", "special_purpose", "an IETF protocol assignment (2001::/23)"),
        ("2002::/16", "6to4", "a 6to4 address (2002::/16)"),
        ("3fff::/20", "documentation", "a documentation address (3fff::/20)"),
    ]
)
GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")


class WebhookUrlRefused(DomainError):
    """`code` is always webhook_url_refused; `reason` (also `extra["reason"]`) says why."""

    def __init__(self, url: str, why: str, reason: str) -> None:
        super().__init__(
            code="webhook_url_refused",
            detail=f"Webhook URL {url!r} is refused: {why}.",
            http_status=400,
            extra={"reason": reason},
        )
        self.reason = reason


@dataclass(frozen=True)
class Refusal:
    reason: str
    why: str


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # the name as written, IDNA-encoded (Host header and TLS SNI)
    port: int
    path: str  # path + query, what goes on the request line
    addresses: tuple[IPAddress, ...]  # all checked; the sender connects to the first


def resolve(host: str, port: int) -> list[str]:
    """All addresses `host` resolves to (tests replace this)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in ipaddress.IPv6Network("64:ff9b::/96") or address in ipaddress.IPv6Network(
        "::/96"
    ):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal(address: IPAddress) -> Refusal | None:
    """Why an address may not be called, or None when it is a global unicast address."""
    if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
        return Refusal("scoped_address", "an address with a zone index")
    if address in METADATA_ADDRESSES:
        return Refusal("metadata", "a cloud metadata address")
    rules = IPV4_RULES if address.version == 4 else IPV6_RULES
    for rule in rules:
        if address in rule.network:
            why = rule.why
            if isinstance(address, ipaddress.IPv6Address):
                embedded = _embedded_ipv4(address)
                if embedded is not None:
                    why += f" embedding {embedded}"
            return Refusal(rule.reason, why)
    if isinstance(address, ipaddress.IPv6Address) and address not in GLOBAL_UNICAST_V6:
        return Refusal("reserved", "outside global unicast (2000::/3)")
    if not address.is_global:
        return Refusal("not_global", "not a globally routable address")
    return None


def _ends_in_a_number(host: str) -> bool:
    """WHATWG URL's test: such a host is an IPv4 address (or invalid), never a DNS name."""
    last = host.rstrip(".").rsplit(".", 1)[-1]
    return bool(re.fullmatch(r"[0-9]+|0[xX][0-9a-fA-F]*", last))


def _strict_ipv4(host: str) -> ipaddress.IPv4Address | None:
    try:
        return ipaddress.IPv4Address(host)
    except ValueError:
        return None


def _answer(raw: str, url: str, host: str) -> IPAddress:
    """One DNS answer, which must be a canonical address."""
    try:
        return ipaddress.ip_address(raw)
    except ValueError:
        pass
    if _ends_in_a_number(raw):
        why = f"{host} resolves to {raw!r}, an ambiguous IPv4 spelling"
        raise WebhookUrlRefused(url, why, "ambiguous_ipv4")
    raise WebhookUrlRefused(url, f"{host} resolves to {raw!r}, not an address", "bad_dns_answer")


_HOST_CHARS = re.compile(r"[a-z0-9_.-]+")


def _host(url: str, raw: str) -> str:
    """The host as an ASCII name or address text (IDNA applied, one trailing dot dropped)."""
    if ":" in raw:  # an IPv6 literal (urlsplit has taken the brackets off)
        return raw
    try:
        host = raw.encode("idna").decode("ascii").lower() if raw else ""
    except UnicodeError:
        raise WebhookUrlRefused(url, "the host is not a valid name", "invalid_url") from None
    host = host.removesuffix(".")
    if not host:
        raise WebhookUrlRefused(url, "no host", "no_host")
    if not _HOST_CHARS.fullmatch(host) or ".." in host:
        raise WebhookUrlRefused(url, "the host is not a valid name", "invalid_url")
    return host


def check_url(url: str, *, resolve_names: bool = True) -> Target:
    """Parse and check `url`; raises WebhookUrlRefused. Returns the target with the addresses
    that were checked, which the sender must connect to."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
        raw_host = parts.hostname or ""
    except ValueError as exc:
        raise WebhookUrlRefused(url, f"not a valid URL ({exc})", "invalid_url") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise WebhookUrlRefused(
            url, "only https (or http for local testing) is allowed", "scheme_not_allowed"
        )
    if scheme == "http" and not settings.OMS_WEBHOOKS_ALLOW_HTTP:
        raise WebhookUrlRefused(url, "https is required", "https_required")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise WebhookUrlRefused(url, "credentials in the URL are not allowed", "credentials")
    if not raw_host:
        raise WebhookUrlRefused(url, "no host", "no_host")
    host = _host(url, raw_host)
    port = port or (443 if scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    allow_private = settings.OMS_WEBHOOKS_ALLOW_PRIVATE
    literal: IPAddress | None
    if ":" in host:
        try:
            literal = ipaddress.IPv6Address(host)
        except ValueError:
            raise WebhookUrlRefused(url, "not a valid IPv6 address", "invalid_url") from None
        if literal.scope_id:
            raise WebhookUrlRefused(url, "an address with a zone index", "scoped_address")
    elif _ends_in_a_number(host):
        literal = _strict_ipv4(host)
        if literal is None:
            why = f"{host} is an ambiguous IPv4 spelling (write the address as a dotted quad)"
            raise WebhookUrlRefused(url, why, "ambiguous_ipv4")
    else:
        literal = None
    if not allow_private and (
        host in METADATA_HOSTS or host == "localhost" or host.endswith(".localhost")
    ):
        reason = "loopback" if "localhost" in host else "metadata"
        raise WebhookUrlRefused(url, f"{host} is an internal name", reason)
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    elif not resolve_names:
        return Target(scheme, host, port, path, ())
    else:
        try:
            answers = resolve(host, port)
        except (OSError, UnicodeError) as exc:
            why = f"the host does not resolve ({exc})"
            raise WebhookUrlRefused(url, why, "unresolvable") from None
        if not answers:
            raise WebhookUrlRefused(url, "the host does not resolve", "unresolvable")
        addresses = [_answer(a, url, host) for a in answers]
    for address in addresses:
        if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
            why = f"{host} resolves to {address}, an address with a zone index"
            raise WebhookUrlRefused(url, why, "scoped_address")
    if not allow_private:
        for address in addresses:
            refused = refusal(address)
            if refused is not None:
                said = (
                    f"is {refused.why}"
                    if literal is not None
                    else f"resolves to {address}, {refused.why}"
                )
                raise WebhookUrlRefused(url, f"{host} {said}", refused.reason)
    return Target(scheme, host, port, path, tuple(addresses))
