"""A local fake of a sales platform: an HTTP server on 127.0.0.1 that answers each route with a
corpus response (shared/corpus) and records every request it received (method, path, headers,
JSON body). `fail_first(route, n, status)` makes a route answer an error n times first."""

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    query: str = ""


@dataclass
class FakePlatform:
    routes: dict[tuple[str, str], tuple[int, Any]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    failures: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    base_url: str = ""

    def answer(self, method: str, pattern: str, body: Any, status: int = 200) -> None:
        """`body`: a corpus file (Path, sent as it is), any JSON value, or a function of the
        platform returning one (a platform that answers with what it was sent earlier)."""
        self.routes[(method, pattern)] = (status, body)

    def fail_first(self, method: str, pattern: str, times: int, status: int = 500) -> None:
        self.failures[(method, pattern)] = [status] * times

    def calls(self, method: str, pattern: str) -> list[Received]:
        return [r for r in self.received if r.method == method and re.fullmatch(pattern, r.path)]

    def _reply(self, method: str, path: str) -> tuple[int, bytes]:
        for (m, pattern), (status, body) in self.routes.items():
            if m == method and re.fullmatch(pattern, path):
                pending = self.failures.get((m, pattern))
                if pending:
                    return pending.pop(0), b'{"errors":"Internal Server Error"}'
                if callable(body):
                    body = body(self)
                raw = (
                    body.read_bytes()
                    if isinstance(body, Path)
                    else json.dumps(body, default=str).encode()
                )
                return status, raw
        return 404, b'{"errors":"Not Found"}'


@contextmanager
def running(platform: FakePlatform) -> Iterator[FakePlatform]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body: Any = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
            with lock:
                platform.received.append(
                    Received(
                        self.command,
                        self.path.split("?")[0],
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                        self.path.partition("?")[2],
                    )
                )
                status, reply = platform._reply(self.command, self.path.split("?")[0])
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        do_GET = do_POST = do_PUT = _handle  # noqa: N815 - http.server's names

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    platform.base_url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield platform
    finally:
        server.shutdown()
        server.server_close()
