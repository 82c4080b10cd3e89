"""POST to a checked target with the standard library, connecting to the checked address.

The name stays in the Host header and in TLS SNI/certificate checks; the socket goes to the
address `ssrf.check_url` approved, so DNS cannot be re-resolved to an internal address between
the check and the connection (rebinding). Connect timeout 3 s, read timeout 10 s, at most 1 KB
of the response body is read. Redirects are not followed (a 3xx is a failed attempt).
"""

import http.client
import socket
import ssl
from dataclasses import dataclass

from webhooks.ssrf import Target

CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 10.0
READ_LIMIT = 1024


class SendError(Exception):
    """The request failed before a response arrived (connect, TLS, timeout, reset)."""


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: str


def _connect(address: str, port: int) -> socket.socket:
    sock = socket.create_connection((address, port), timeout=CONNECT_TIMEOUT)
    sock.settimeout(READ_TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target) -> None:
        super().__init__(target.host, target.port, timeout=READ_TIMEOUT)
        self._address = str(target.addresses[0])

    def connect(self) -> None:
        self.sock = _connect(self._address, self.port)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target) -> None:
        super().__init__(
            target.host, target.port, timeout=READ_TIMEOUT, context=ssl.create_default_context()
        )
        self._address = str(target.addresses[0])

    def connect(self) -> None:
        sock = _connect(self._address, self.port)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(target: Target, body: bytes, headers: dict[str, str]) -> Response:
    if not target.addresses:
        raise SendError("target has no checked address")
    conn_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    conn = conn_class(target)
    try:
        conn.request("POST", target.path, body=body, headers=headers)
        raw = conn.getresponse()
        text = raw.read(READ_LIMIT).decode("utf-8", errors="replace")
        return Response(
            status=raw.status,
            headers={k.lower(): v for k, v in raw.getheaders()},
            body=text,
        )
    except (OSError, http.client.HTTPException) as exc:
        raise SendError(f"{type(exc).__name__}: {exc}"[:500]) from exc
    finally:
        conn.close()
