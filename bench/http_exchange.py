"""The bench's HTTP client: one HTTP/1.1 exchange on its own connection, written and read on a
plain socket.

The load generators (capture_load.py, routing_bench.py's availability clients) share the
machine with the server they measure, as the SQL floors' pgbench (C) does with PostgreSQL, so
what they burn is taken from the server. http.client cost about three times the CPU per request
(its request and response objects, and the response headers parsed by email.feedparser): 180
against 60 us with nothing else running, 0.6-0.8 against 0.3 ms under the capture load.

Each request asks for "Connection: close", which is what gunicorn's sync workers do to every
connection anyway, so the server sees the same exchange as from http.client, which also opened a
connection per request against them.
"""

import socket


class BadResponse(OSError):
    """What came back was not an HTTP/1.x response."""


def request_head(method: str, target: str, host: str, port: int, headers: dict[str, str]) -> bytes:
    """The request line and headers, "Connection: close" among them, without the blank line
    that ends them: a caller adds its per-request headers, then `end_head()`."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n").encode()


def end_head(head: bytes, body: bytes = b"") -> bytes:
    """The whole request: head, its Content-Length when there is a body, the body."""
    if body:
        return b"%sContent-Length: %d\r\n\r\n%s" % (head, len(body), body)
    return head + b"\r\n"


def exchange(address: tuple[str, int], request: bytes, timeout: float = 60) -> tuple[int, bytes]:
    """Send `request` on a new connection and read to the server's close: (status, body).

    Raises OSError: a refused or reset connection, a timeout, or BadResponse.
    """
    with socket.create_connection(address, timeout=timeout) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(request)
        chunks = []
        while data := sock.recv(65536):
            chunks.append(data)
    response = b"".join(chunks)
    header, separator, payload = response.partition(b"\r\n\r\n")
    if not separator or not header.startswith(b"HTTP/1.") or not header[9:12].isdigit():
        raise BadResponse(f"not an HTTP response: {response[:200]!r}")
    return int(header[9:12]), payload
