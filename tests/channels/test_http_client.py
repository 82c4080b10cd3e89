"""The channels' HTTP client turns every network failure into a CallFailed the outbox can retry:
a refused connection and a host that does not resolve never escape as a bare OSError."""

import socket

import pytest

from channels.adapters.base import CallFailed
from channels.http import Client


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_refused_connection_is_a_retryable_call_failed(settings):
    settings.OMS_CHANNELS_ALLOWED_HOSTS = ["127.0.0.1"]
    client = Client(base_url=f"http://127.0.0.1:{_closed_port()}")

    with pytest.raises(CallFailed) as failed:
        client.request("GET", "/orders.json")

    assert failed.value.retryable is True
    assert "ConnectionRefusedError" in str(failed.value)
    assert client.log == []


def test_an_allowed_host_that_does_not_resolve_is_a_retryable_call_failed(settings):
    settings.OMS_CHANNELS_ALLOWED_HOSTS = ["shop.invalid"]
    client = Client(base_url="http://shop.invalid")

    with pytest.raises(CallFailed) as failed:
        client.request("GET", "/orders.json")

    assert failed.value.retryable is True
    assert "cannot resolve shop.invalid" in str(failed.value)
