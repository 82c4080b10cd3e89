"""Calls to a platform: the SSRF guard on the configured endpoint, then one HTTP request to the
checked address (webhooks/ssrf.py; the name stays in Host and TLS SNI, so DNS cannot be
re-resolved to an internal address in between).

`OMS_CHANNELS_ALLOWED_HOSTS` lists host[:port] names that skip the address rules (http and
private addresses allowed) for development and the tests' fake platforms; nothing else does.
Credentials go in headers the adapter builds; they are never logged or kept in the outbox.
"""

import http.client
import ipaddress
import json
import socket
import ssl
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

from channels.adapters.base import CallFailed
from webhooks.ssrf import Target, WebhookUrlRefused, check_url

CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 15.0
READ_LIMIT = 1024 * 1024


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        try:
            return json.loads(self.text) if self.text else {}
        except ValueError:
            return {}


def _allowed(host: str, port: int | None) -> bool:
    allowed = {h.lower() for h in settings.OMS_CHANNELS_ALLOWED_HOSTS}
    return host.lower() in allowed or f"{host.lower()}:{port}" in allowed


def check_endpoint(url: str) -> Target:
    """The checked target of `url`, or CallFailed (not retryable: the setting must change)."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if host and _allowed(host, parts.port):
        scheme = parts.scheme.lower()
        port = parts.port or (443 if scheme == "https" else 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:  # an unresolvable host: retried, the name may come back
            raise CallFailed(f"cannot resolve {host}: {exc}"[:300]) from exc
        addresses = tuple(ipaddress.ip_address(info[4][0]) for info in infos[:1])
        return Target(scheme, host, port, path, addresses)
    try:
        return check_url(url)
    except WebhookUrlRefused as exc:
        raise CallFailed(f"endpoint refused: {exc.detail}", retryable=False) from None


@dataclass
class Client:
    """One channel's calls: the base URL, the adapter's auth headers, and a record of every
    request made (method, path, status) for the outbox row."""

    base_url: str
    headers: dict[str, str] = field(default_factory=dict)
    log: list[dict[str, Any]] = field(default_factory=list)

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        body: bytes | None = None,
        query: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        url: str | None = None,
        ok: tuple[int, ...] = (),
    ) -> Response:
        """Send; a 2xx (or a status in `ok`) is returned, anything else raises CallFailed."""
        if not url and not self.base_url:
            raise CallFailed("the channel has no endpoint base URL", retryable=False)
        target_url = url or (self.base_url.rstrip("/") + "/" + path.lstrip("/"))
        if query:
            target_url += ("&" if "?" in target_url else "?") + urlencode(query)
        target = check_endpoint(target_url)
        all_headers = {"user-agent": "oms-channels/1", "accept": "application/json"}
        all_headers.update(self.headers)
        all_headers.update(headers or {})
        if json_body is not None:
            body = json.dumps(json_body, cls=DjangoJSONEncoder).encode()
            all_headers.setdefault("content-type", "application/json")
        response = _send(target, method, body, all_headers)
        self.log.append({"method": method, "path": target.path, "status": response.status})
        if 200 <= response.status < 300 or response.status in ok:
            return response
        retryable = response.status >= 500 or response.status in (408, 409, 425, 429)
        raise CallFailed(
            f"{method} {target.path} answered {response.status}: {response.text[:200]}",
            status=response.status,
            retryable=retryable,
        )


def _send(target: Target, method: str, body: bytes | None, headers: dict[str, str]) -> Response:
    if not target.addresses:
        raise CallFailed("the endpoint has no checked address")
    address = str(target.addresses[0])
    conn: http.client.HTTPConnection
    if target.scheme == "https":
        conn = http.client.HTTPSConnection(
            target.host, target.port, timeout=READ_TIMEOUT, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(target.host, target.port, timeout=READ_TIMEOUT)
    try:
        # Connecting and the TLS handshake fail like the exchange does (refused, reset, timed
        # out, bad certificate): a retryable CallFailed, never a bare OSError in the relay.
        sock = socket.create_connection((address, target.port), timeout=CONNECT_TIMEOUT)
        sock.settimeout(READ_TIMEOUT)
        if isinstance(conn, http.client.HTTPSConnection):
            sock = conn._context.wrap_socket(sock, server_hostname=target.host)  # noqa: SLF001
        conn.sock = sock
        conn.request(method, target.path, body=body, headers=headers)
        raw = conn.getresponse()
        text = raw.read(READ_LIMIT).decode("utf-8", errors="replace")
        return Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, text)
    except (OSError, http.client.HTTPException) as exc:
        raise CallFailed(f"{type(exc).__name__}: {exc}"[:300]) from exc
    finally:
        conn.close()
