"""The fault tests' clients: a storefront posting orders and a webhook receiver.

OrderLoad posts N one-line orders from a few threads. Each order has one Idempotency-Key for
all its attempts, and is retried (connection refused or reset, timeout, 5xx, 409
idempotency_key_in_use, 429) until the API answers 201: what a well-behaved channel does. Any
other answer is recorded as refused and ends that order's attempts (the test fails on it).

WebhookReceiver is a small HTTP server on 127.0.0.1 that verifies each request's Standard
Webhooks signature and keeps the event ids it got, deduplicated by `webhook-id` as a consumer
must (delivery is at least once).
"""

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
from standardwebhooks import Webhook

RETRYABLE_CONFLICT = "idempotency_key_in_use"


def order_body(external_id: str, sku: str) -> dict:
    return {
        "external_id": external_id,
        "placed_at": "2026-11-20T09:30:00Z",
        "currency": "USD",
        "customer": {"name": "Grace Hopper", "email": "grace@example.com"},
        "delivery": {"method": "ship", "service_level": "standard"},
        "shipping_address": {
            "line1": "600 Pennsylvania Ave NW",
            "city": "Washington",
            "region": "DC",
            "postal_code": "20500",
            "country": "US",
        },
        "lines": [{"sku": sku, "quantity": 1, "unit_price": "19.99"}],
        "shipping_total": "5.00",
        "payment": {"status": "authorized", "method": "card", "reference": f"pi_{external_id}"},
    }


class OrderLoad:
    def __init__(self, base_url: str, key: str, skus: list[str], n: int, threads: int = 4) -> None:
        self.base_url = base_url
        self.key = key
        self.skus = skus
        self.n = n
        self.threads = threads
        self.run = uuid.uuid4().hex[:6]
        self.lock = threading.Lock()
        self.numbers: dict[str, str] = {}  # external id → order number from the 201
        self.succeeded_at: dict[str, float] = {}
        self.refused: dict[str, tuple[int, str]] = {}
        self.errors: Counter[str] = Counter()
        self.failed_attempts: list[float] = []  # monotonic times of failed attempts
        self.attempts = 0
        self.replayed = 0
        self._next = 0
        self._workers: list[threading.Thread] = []
        self.started = 0.0
        self.finished = 0.0

    def external_id(self, i: int) -> str:
        return f"CHAOS-{self.run}-{i:04d}"

    def sku(self, i: int) -> str:
        return self.skus[i % len(self.skus)]

    def ordered_per_sku(self) -> Counter[str]:
        return Counter(self.sku(i) for i in range(self.n))

    def start(self) -> "OrderLoad":
        self.started = time.monotonic()
        for _ in range(self.threads):
            thread = threading.Thread(target=self._work, daemon=True)
            thread.start()
            self._workers.append(thread)
        return self

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for thread in self._workers:
            thread.join(max(0.0, deadline - time.monotonic()))
        assert not any(t.is_alive() for t in self._workers), "the load did not finish in time"
        self.finished = time.monotonic()

    def done(self) -> int:
        with self.lock:
            return len(self.numbers)

    def _take(self) -> int | None:
        with self.lock:
            if self._next >= self.n:
                return None
            self._next += 1
            return self._next - 1

    def _work(self) -> None:
        with httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self.key}"},
            timeout=httpx.Timeout(15.0, connect=3.0),
        ) as client:
            while (i := self._take()) is not None:
                self._post_until_done(client, i)

    def _post_until_done(self, client: httpx.Client, i: int) -> None:
        external_id = self.external_id(i)
        body = order_body(external_id, self.sku(i))
        idempotency_key = f"chaos-{self.run}-{i}"
        delay = 0.2
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            with self.lock:
                self.attempts += 1
            try:
                response = client.post(
                    "/api/v1/orders/", json=body, headers={"Idempotency-Key": idempotency_key}
                )
            except httpx.HTTPError as exc:
                self._failed(type(exc).__name__)
            else:
                if response.status_code == 201:
                    with self.lock:
                        self.numbers[external_id] = response.json()["number"]
                        self.succeeded_at[external_id] = time.monotonic()
                        self.replayed += response.headers.get("Idempotent-Replayed") == "true"
                    return
                code = _code(response)
                if (
                    response.status_code >= 500
                    or response.status_code == 429
                    or (response.status_code == 409 and code == RETRYABLE_CONFLICT)
                ):
                    self._failed(f"{response.status_code} {code}")
                else:
                    with self.lock:
                        self.refused[external_id] = (response.status_code, code)
                    return
            time.sleep(delay)
            delay = min(delay * 1.5, 2.0)
        with self.lock:
            self.refused[external_id] = (0, "gave_up")

    def _failed(self, kind: str) -> None:
        with self.lock:
            self.errors[kind] += 1
            self.failed_attempts.append(time.monotonic())


def _code(response: httpx.Response) -> str:
    try:
        return str(response.json().get("code", ""))
    except (json.JSONDecodeError, AttributeError):
        return response.text[:60]


class WebhookReceiver:
    """Verifies signatures; `event_ids` is every event received, once however often it came."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.secret: str | None = None
        self.requests = 0
        self.webhook_ids: set[str] = set()
        self.event_ids: set[str] = set()
        self.bad_signatures = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                if receiver.delay:
                    time.sleep(receiver.delay)  # a slow consumer: deliveries are in flight longer
                receiver.received(headers, body)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/oms"

    def received(self, headers: dict[str, str], body: bytes) -> None:
        try:
            data = Webhook(self.secret or "").verify(body, headers)
        except Exception:  # noqa: BLE001 - any verification failure counts as a bad signature
            with self.lock:
                self.requests += 1
                self.bad_signatures += 1
            return
        with self.lock:
            self.requests += 1
            self.webhook_ids.add(headers["webhook-id"])
            self.event_ids.add(data["id"])

    def distinct(self) -> int:
        with self.lock:
            return len(self.webhook_ids)

    @contextmanager
    def running(self) -> Iterator["WebhookReceiver"]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()
