"""The SSRF guard, table-driven: every form below is a webhook URL (or a DNS answer for one) with
the reason code it must be refused with, or None when it must be accepted.

Nothing here touches the network: `ssrf.resolve` (the guard's resolver seam) is replaced by a
table lookup, and `http._connect` may only reach loopback (the pinning and no-redirect tests run
their own receivers on 127.0.0.1).
"""

import ipaddress
import socket

import pytest
from django.contrib.auth.models import Group, User
from django.db import transaction
from rest_framework.test import APIClient

from integrations.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from oms.core.actors import Actor
from oms.events.services import record_event
from tests.webhooks.test_webhooks_sending import running_receiver
from webhooks import http, sending, ssrf
from webhooks.relay import relay_events

PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"

# --- URL literals: (url, expected reason or None for accepted) ---------------------------------

LITERALS: list[tuple[str, str | None]] = [
    # the three forms the issue found accepted
    ("https://[2002:7f00:1::]/", "6to4"),
    ("https://[2002:a9fe:a9fe::]/", "6to4"),
    ("https://[fec0::1]/", "site_local"),
    # 6to4 (refused whole, whatever it embeds)
    ("https://[2002:c0a8:101::1]/", "6to4"),
    ("https://[2002:a00:1::]/", "6to4"),
    ("https://[2002:808:808::1]/", "6to4"),  # embeds 8.8.8.8: still refused
    ("https://[2002::]/", "6to4"),
    ("https://192.88.99.1/", "6to4"),  # the 6to4 relay anycast
    # Teredo
    ("https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "teredo"),
    ("https://[2001::7f00:1]/", "teredo"),
    ("https://[2001:0:a9fe:a9fe::1]/", "teredo"),
    # NAT64
    ("https://[64:ff9b::7f00:1]/", "nat64"),
    ("https://[64:ff9b::a9fe:a9fe]/", "nat64"),
    ("https://[64:ff9b::808:808]/", "nat64"),
    ("https://[64:ff9b::127.0.0.1]/", "nat64"),
    ("https://[64:ff9b:1::a00:1]/", "nat64"),
    # site-local
    ("https://[fec0::]/", "site_local"),
    ("https://[feff:ffff::1]/", "site_local"),
    # IPv4-mapped and IPv4-compatible
    ("https://[::ffff:127.0.0.1]/", "ipv4_mapped"),
    ("https://[::ffff:7f00:1]/", "ipv4_mapped"),
    ("https://[::ffff:169.254.169.254]/", "ipv4_mapped"),
    ("https://[::ffff:8.8.8.8]/", "ipv4_mapped"),
    ("https://[0:0:0:0:0:ffff:10.0.0.1]/", "ipv4_mapped"),
    ("https://[::127.0.0.1]/", "ipv4_compatible"),
    ("https://[::7f00:1]/", "ipv4_compatible"),
    ("https://[::8.8.8.8]/", "ipv4_compatible"),
    # other IPv6 outside global unicast, and special ranges inside it
    ("https://[::1]/", "loopback"),
    ("https://[0:0:0:0:0:0:0:1]/", "loopback"),
    ("https://[::]/", "unspecified"),
    ("https://[fc00::1]/", "unique_local"),
    ("https://[fd12:3456:789a::1]/", "unique_local"),
    ("https://[fd00:ec2::254]/", "metadata"),
    ("https://[fe80::1]/", "link_local"),
    ("https://[febf::1]/", "link_local"),
    ("https://[fe80::1%25eth0]/", "scoped_address"),
    ("https://[2606:4700::1111%25eth0]/", "scoped_address"),
    ("https://[ff02::1]/", "multicast"),
    ("https://[ff05::1:3]/", "multicast"),
    ("https://[ff0e::1]/", "multicast"),
    ("https://[100::1]/", "discard"),
    ("https://[2001:db8::1]/", "documentation"),
    ("https://[3fff::1]/", "documentation"),
    ("https://[2001:2::1]/", "benchmarking"),
    ("https://[2001:10::1]/", "special_purpose"),
    ("https://[2001:20::1]/", "special_purpose"),
    ("https://[2001:1::1]/", "special_purpose"),
    ("https://[5f00::1]/", "reserved"),
    ("https://[1::1]/", "reserved"),
    ("https://[4000::1]/", "reserved"),
    ("https://[::ffff:0:7f00:1]/", "reserved"),  # IPv4-translated (SIIT)
    # IPv4
    ("https://127.0.0.1/", "loopback"),
    ("https://127.255.255.254/", "loopback"),
    ("https://0.0.0.0/", "unspecified"),
    ("https://0.1.2.3/", "this_network"),
    ("https://10.0.0.5/", "private"),
    ("https://172.16.0.1/", "private"),
    ("https://172.31.255.255/", "private"),
    ("https://192.168.1.1/", "private"),
    ("https://100.64.0.1/", "shared"),
    ("https://100.127.255.254/", "shared"),
    ("https://100.100.100.200/", "metadata"),
    ("https://169.254.169.254/latest/meta-data", "metadata"),
    ("https://169.254.0.1/", "link_local"),
    ("https://192.0.0.8/", "special_purpose"),
    ("https://192.0.0.170/", "special_purpose"),  # NAT64 discovery
    ("https://192.0.2.1/", "documentation"),
    ("https://198.51.100.7/", "documentation"),
    ("https://203.0.113.9/", "documentation"),
    ("https://198.18.0.1/", "benchmarking"),
    ("https://198.19.255.254/", "benchmarking"),
    ("https://224.0.0.1/", "multicast"),
    ("https://239.255.255.250/", "multicast"),
    ("https://240.0.0.1/", "reserved"),
    ("https://255.255.255.254/", "reserved"),
    ("https://255.255.255.255/", "broadcast"),
    # odd IPv4 spellings: refused whatever they mean
    ("https://2130706433/", "ambiguous_ipv4"),
    ("https://0177.0.0.1/", "ambiguous_ipv4"),
    ("https://0x7f.1/", "ambiguous_ipv4"),
    ("https://127.1/", "ambiguous_ipv4"),
    ("https://0x7f000001/", "ambiguous_ipv4"),
    ("https://0x7F.0.0.1/", "ambiguous_ipv4"),
    ("https://127.0.1/", "ambiguous_ipv4"),
    ("https://017700000001/", "ambiguous_ipv4"),
    ("https://127.000.000.001/", "ambiguous_ipv4"),
    ("https://134744072/", "ambiguous_ipv4"),  # 8.8.8.8: refused for the spelling
    ("https://0/", "ambiguous_ipv4"),
    ("https://1.2.3.4.5/", "ambiguous_ipv4"),
    ("https://hooks.example.123/", "ambiguous_ipv4"),  # ends in a number: never a DNS name
    ("https://１２７.０.０.１/", "loopback"),  # fullwidth digits, IDNA-normalised
    ("https://127。0。0。1/", "loopback"),  # ideographic full stops
    # names that are internal whatever DNS says
    ("https://localhost/", "loopback"),
    ("https://LOCALHOST./", "loopback"),
    ("https://api.localhost/", "loopback"),
    ("https://metadata.google.internal/computeMetadata/v1/", "metadata"),
    ("https://metadata/", "metadata"),
    # URL form
    ("https://user:pass@example.com/", "credentials"),
    ("https://example.com@127.0.0.1/", "credentials"),
    ("http://example.com/", "https_required"),
    ("file:///etc/passwd", "scheme_not_allowed"),
    ("gopher://example.com/", "scheme_not_allowed"),
    ("ftp://example.com/", "scheme_not_allowed"),
    ("https:///nohost", "no_host"),
    ("https://[::1/", "invalid_url"),
    ("https://example.com:99999/", "invalid_url"),
    ("https://a..b/", "invalid_url"),
    ("https://exa mple.com/", "invalid_url"),
    ("https://[1.2.3.4]/", "invalid_url"),
    # accepted: global unicast, including the neighbours of refused ranges
    ("https://8.8.8.8/", None),
    ("https://1.1.1.1:8443/in?x=1", None),
    ("https://93.184.215.14/", None),
    ("https://9.255.255.255/", None),
    ("https://11.0.0.1/", None),
    ("https://100.63.255.255/", None),
    ("https://100.128.0.0/", None),
    ("https://126.255.255.255/", None),
    ("https://128.0.0.1/", None),
    ("https://169.253.255.255/", None),
    ("https://169.255.0.1/", None),
    ("https://172.15.255.255/", None),
    ("https://172.32.0.1/", None),
    ("https://192.167.255.255/", None),
    ("https://192.169.0.1/", None),
    ("https://198.17.255.255/", None),
    ("https://198.20.0.1/", None),
    ("https://223.255.255.254/", None),
    ("https://[2001:4860:4860::8888]/", None),
    ("https://[2606:4700:4700::1111]/", None),
    ("https://[2a00:1450:4001:80b::200e]:8443/", None),
    ("https://[2001:200::1]/", None),  # just above 2001::/23
    ("https://[2003::1]/", None),  # just above 6to4
    ("https://[2001:db9::1]/", None),  # just above documentation
]

# --- DNS answers for https://hooks.example.com/: (answers, expected reason) --------------------

DNS: list[tuple[list[str] | type[OSError], str | None]] = [
    (["127.0.0.1"], "loopback"),
    (["::1"], "loopback"),
    ([PUBLIC_V4, "127.0.0.1"], "loopback"),  # every answer is checked
    (["127.0.0.1", PUBLIC_V4], "loopback"),
    ([PUBLIC_V6, "10.0.0.1"], "private"),
    (["169.254.169.254"], "metadata"),
    (["fd00:ec2::254"], "metadata"),
    (["2002:7f00:1::"], "6to4"),
    (["2002:a9fe:a9fe::"], "6to4"),
    (["2001:0:4136:e378:8000:63bf:3fff:fdd2"], "teredo"),
    (["64:ff9b::a9fe:a9fe"], "nat64"),
    (["64:ff9b:1::1"], "nat64"),
    (["fec0::1"], "site_local"),
    (["::ffff:127.0.0.1"], "ipv4_mapped"),
    (["::ffff:8.8.8.8"], "ipv4_mapped"),
    (["::127.0.0.1"], "ipv4_compatible"),
    (["fd00::1"], "unique_local"),
    (["fe80::1%eth0"], "scoped_address"),
    (["fe80::1"], "link_local"),
    (["ff02::1"], "multicast"),
    (["100.64.0.1"], "shared"),
    (["192.168.0.1"], "private"),
    (["0.0.0.0"], "unspecified"),  # noqa: S104 - a DNS answer, nothing binds
    (["0.0.0.1"], "this_network"),
    (["198.18.0.1"], "benchmarking"),
    (["192.0.2.1"], "documentation"),
    (["2001:db8::1"], "documentation"),
    (["240.0.0.1"], "reserved"),
    (["255.255.255.255"], "broadcast"),
    (["224.0.0.251"], "multicast"),
    (["2130706433"], "ambiguous_ipv4"),
    (["0177.0.0.1"], "ambiguous_ipv4"),
    (["0x7f.1"], "ambiguous_ipv4"),
    (["127.1"], "ambiguous_ipv4"),
    (["not-an-address"], "bad_dns_answer"),
    ([], "unresolvable"),
    (socket.gaierror, "unresolvable"),
    ([PUBLIC_V4], None),
    ([PUBLIC_V6], None),
    ([PUBLIC_V4, PUBLIC_V6, "8.8.8.8"], None),
]


@pytest.fixture(autouse=True)
def _no_real_network(monkeypatch, settings):
    settings.OMS_WEBHOOKS_ALLOW_HTTP = False
    settings.OMS_WEBHOOKS_ALLOW_PRIVATE = False
    real_connect = http._connect

    def loopback_only(address: str, port: int):
        assert ipaddress.ip_address(address).is_loopback, f"tried to connect to {address}"
        return real_connect(address, port)

    def public_dns(host: str, port: int) -> list[str]:
        assert host.isascii(), host  # names reach DNS IDNA-encoded
        return [PUBLIC_V4]

    monkeypatch.setattr(http, "_connect", loopback_only)
    monkeypatch.setattr(ssrf, "resolve", public_dns)


def outcome(url: str) -> str | None:
    """The reason code `url` is refused with (checking the error's shape), or None."""
    try:
        ssrf.check_url(url)
    except ssrf.WebhookUrlRefused as exc:
        refused = exc
    else:
        return None
    assert (refused.code, refused.extra) == ("webhook_url_refused", {"reason": refused.reason})
    return refused.reason


def test_the_table_has_at_least_100_forms():
    assert len(LITERALS) + len(DNS) >= 100
    assert len({url for url, _ in LITERALS}) == len(LITERALS)


@pytest.mark.parametrize(("url", "reason"), LITERALS, ids=[u for u, _ in LITERALS])
def test_url_literals(url, reason):
    assert outcome(url) == reason


@pytest.mark.parametrize(
    ("answers", "reason"), DNS, ids=[str(a if isinstance(a, list) else a.__name__) for a, _ in DNS]
)
def test_dns_answers(answers, reason, monkeypatch):
    asked: list[tuple[str, int]] = []

    def fake(host: str, port: int) -> list[str]:
        asked.append((host, port))
        if isinstance(answers, type):
            raise answers("no such name")
        return list(answers)

    monkeypatch.setattr(ssrf, "resolve", fake)
    assert outcome("https://Hooks.Example.com./in") == reason
    assert asked == [("hooks.example.com", 443)]


def test_an_accepted_target_keeps_every_checked_address_for_pinning(monkeypatch):
    monkeypatch.setattr(ssrf, "resolve", lambda host, port: [PUBLIC_V6, PUBLIC_V4])
    target = ssrf.check_url("https://bücher.example:8443/in?x=1")
    assert (target.host, target.port, target.path) == ("xn--bcher-kva.example", 8443, "/in?x=1")
    assert [str(a) for a in target.addresses] == [PUBLIC_V6, PUBLIC_V4]


def test_literals_are_not_resolved(monkeypatch):
    def no_dns(host: str, port: int) -> list[str]:
        raise AssertionError(f"resolved {host}")

    monkeypatch.setattr(ssrf, "resolve", no_dns)
    assert outcome("https://8.8.8.8/") is None
    assert outcome("https://[2002:7f00:1::]/") == "6to4"
    assert outcome("https://2130706433/") == "ambiguous_ipv4"


def test_allow_private_lifts_address_rules_but_not_the_url_form(settings):
    settings.OMS_WEBHOOKS_ALLOW_PRIVATE = True
    assert outcome("https://[2002:7f00:1::]/") is None
    assert outcome("https://10.0.0.5/") is None
    assert outcome("https://2130706433/") == "ambiguous_ipv4"
    assert outcome("https://u:p@10.0.0.5/") == "credentials"


# --- the sender connects to the checked address and does not follow redirects ---------------


def test_the_connection_goes_to_the_checked_address_not_a_new_lookup(settings, monkeypatch):
    settings.OMS_WEBHOOKS_ALLOW_HTTP = True
    settings.OMS_WEBHOOKS_ALLOW_PRIVATE = True  # the receiver is on loopback
    monkeypatch.setattr(ssrf, "resolve", lambda host, port: ["127.0.0.1"])
    real_getaddrinfo = socket.getaddrinfo

    def numeric_only(host, *args, **kwargs):  # a second lookup of the name would fail here
        ipaddress.ip_address(host)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", numeric_only)
    with running_receiver() as receiver:
        port = receiver.server.server_address[1]
        target = ssrf.check_url(f"http://hooks.example.com:{port}/in")
        response = http.post(target, b"{}", {"content-type": "application/json"})
        assert response.status == 200
        [(headers, body)] = receiver.received
    assert headers["host"] == f"hooks.example.com:{port}"
    assert body == b"{}"


def test_a_redirect_is_not_followed(settings):
    settings.OMS_WEBHOOKS_ALLOW_HTTP = True
    settings.OMS_WEBHOOKS_ALLOW_PRIVATE = True
    with running_receiver() as inner:
        redirect = (302, {"Location": inner.url}, b"")
        with running_receiver(lambda n: redirect) as outer:
            response = http.post(ssrf.check_url(outer.url), b"{}", {})
            assert (response.status, outer.count()) == (302, 1)
        assert inner.count() == 0


# --- the admin form, the API and the send-time re-check refuse with the same code ------------

SAMPLE = [
    ("https://[2002:7f00:1::]/", "6to4"),
    ("https://[2002:a9fe:a9fe::]/", "6to4"),
    ("https://[fec0::1]/", "site_local"),
    ("https://[64:ff9b::a9fe:a9fe]/", "nat64"),
    ("https://[2001::7f00:1]/", "teredo"),
    ("https://[::ffff:169.254.169.254]/", "ipv4_mapped"),
    ("https://0x7f.1/", "ambiguous_ipv4"),
]


def _ops_api() -> APIClient:
    user = User.objects.create_user("ops", password="x", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name="ops_admin")[0])
    client = APIClient()
    client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "reason"), SAMPLE)
def test_the_api_refuses_on_create_and_on_change(url, reason):
    api = _ops_api()
    body = {"name": "erp", "url": url, "event_types": ["*"]}
    created = api.post("/api/v1/webhook-subscriptions/", body, format="json")
    assert created.status_code == 400
    assert (created.json()["code"], created.json()["extra"]) == (
        "webhook_url_refused",
        {"reason": reason},
    )
    assert not WebhookSubscription.objects.exists()
    good = api.post(
        "/api/v1/webhook-subscriptions/", body | {"url": "https://erp.example.com/"}, format="json"
    )
    changed = api.patch(
        f"/api/v1/webhook-subscriptions/{good.json()['id']}/", {"url": url}, format="json"
    )
    assert (changed.status_code, changed.json()["extra"]) == (400, {"reason": reason})
    assert WebhookSubscription.objects.get().url == "https://erp.example.com/"


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "reason"), SAMPLE)
def test_the_admin_form_refuses_with_the_same_code_and_words(url, reason, client):
    client.force_login(User.objects.create_superuser("root", password="x"))
    page = client.post(
        "/admin/integrations/webhooksubscription/add/",
        {"name": "x", "url": url, "event_types": "*"},
    )
    assert page.status_code == 200  # the form again, with the error
    [error] = page.context["adminform"].form.errors.as_data()["url"]
    api = _ops_api().post(
        "/api/v1/webhook-subscriptions/", {"url": url, "event_types": ["*"]}, format="json"
    )
    assert (error.code, error.params) == (api.json()["code"], api.json()["extra"])
    assert error.params == {"reason": reason}
    assert error.message % error.params == api.json()["detail"]
    assert not WebhookSubscription.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "reason"), SAMPLE)
def test_the_send_time_recheck_refuses_without_connecting(url, reason, monkeypatch):
    # a row saved before these rules (or by a DNS answer that changed since): straight to the db
    sub = WebhookSubscription.objects.create(name="old", url=url, event_types=["*"])
    with transaction.atomic():
        record_event(stream="order:T-1", type="order.created", actor=Actor.system("t"), payload={})
    relay_events()
    delivery = WebhookDelivery.objects.get(subscription=sub)

    def no_post(*args, **kwargs):
        raise AssertionError("posted to a refused URL")

    monkeypatch.setattr(http, "post", no_post)
    assert sending.send_delivery(delivery.pk) == DeliveryStatus.DEAD
    attempt = delivery.tries.get()
    assert attempt.status_code is None
    with pytest.raises(ssrf.WebhookUrlRefused) as refused:
        ssrf.check_url(url)
    assert (refused.value.reason, attempt.error) == (reason, refused.value.detail)


@pytest.mark.django_db
def test_a_name_that_rebinds_to_6to4_is_refused_at_send_time(monkeypatch):
    sub = WebhookSubscription.objects.create(
        name="erp", url="https://erp.example.com/", event_types=["*"]
    )
    with transaction.atomic():
        record_event(stream="order:T-2", type="order.created", actor=Actor.system("t"), payload={})
    relay_events()
    delivery = WebhookDelivery.objects.get(subscription=sub)
    monkeypatch.setattr(ssrf, "resolve", lambda host, port: ["2002:a9fe:a9fe::"])
    monkeypatch.setattr(http, "post", lambda *a, **k: pytest.fail("posted"))
    assert sending.send_delivery(delivery.pk) == DeliveryStatus.DEAD
    assert "6to4" in delivery.tries.get().error
