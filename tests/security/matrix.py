"""The machinery of the role matrix (tests/security/test_role_matrix.py): every route of the URL
configuration, the roles, one shared world of objects, and how a response is classified.

A route's key is its name (`namespace:name`), or its pattern when it has no name (the admin's
legacy `<object_id>/` redirects, the fulfillment feedback actions)."""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.test import Client, TestCase
from django.urls import URLPattern, URLResolver, get_resolver

# What a GET may answer, as classified by outcome():
OK = "ok"  # 2xx, a redirect that is not to a login page, or 405 (wrong method, but past the gate)
LOGIN = "login"  # a redirect to the admin's or the store screens' login
E401 = "401"
E403 = "403"
E404 = "404"  # not found: for a store screen's gate (`no store screens here`) or out of scope

ALLOWED = {OK}
ROLES = ("anonymous", "store", "cs", "finance", "ops", "superuser", "node_key", "channel_key")

# Every request comes from an address outside the /metrics allow-list.
REMOTE_ADDR = "203.0.113.7"
MISSING = 999_999
# A GET that needs a query string to get past validation.
QUERIES = {"availability": "?sku=TEE-BLK-M"}


@dataclass(frozen=True)
class Route:
    key: str
    pattern: str


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = namespace + (f"{entry.namespace}:" if entry.namespace else "")
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            pattern = prefix + str(entry.pattern)
            yield Route(f"{namespace}{entry.name}" if entry.name else (pattern or "/"), pattern)


def all_routes() -> list[Route]:
    """Every route of the URL configuration, once per key (recursively through includes)."""
    seen: dict[str, Route] = {}
    for route in _walk(get_resolver().url_patterns):
        seen.setdefault(route.key, route)
    return list(seen.values())


@dataclass
class World:
    clients: dict[str, Client]
    order: Any
    fulfillment: Any
    ids: dict[str, Any]

    def url(self, route: Route) -> str:
        """A concrete URL for the route: its parameters filled with the world's objects."""
        pattern = route.pattern
        if pattern.startswith("admin/^("):  # the app index: ^(?P<app_label>a|b)/$
            return "/admin/orders/"
        if pattern == "admin/(?P<url>.*)$":  # the catch-all
            return "/admin/no-such-page/"
        model_match = re.match(r"admin/(\w+)/(\w+)/", pattern)
        if model_match and pattern.endswith("^([^/]+)/history/([^/]+)/$"):  # simple_history
            app_label, model_name = model_match.groups()
            model = apps.get_model(app_label, model_name)
            row = model._default_manager.order_by("-pk").first()
            # A historical row's own pk is history_id; the tracked row's id is its pk field's
            # attname (`id`).
            of_row = {model._meta.pk.attname: row.pk}
            version = model.history.filter(**of_row).order_by("-history_id").first()
            if version is None:  # history off in an earlier test on this worker: record one
                model.history.bulk_history_create([row])
                version = model.history.filter(**of_row).order_by("-history_id").first()
            return f"/admin/{app_label}/{model_name}/{row.pk}/history/{version.history_id}/"

        def value(match: re.Match[str]) -> str:
            name = match.group(2)
            if name == "object_id" and model_match:
                return str(self.object_id(*model_match.groups()))
            if name == "number":
                if pattern.startswith("api/v1/orders/"):
                    return str(self.order.number)
                return str(self.fulfillment.number)
            if name == "pk" and pattern.startswith("store/"):
                return str(self.fulfillment.pk)
            if name == "content_type_id":
                return str(ContentType.objects.get_for_model(self.order).pk)
            if name == "object_id":  # view_on_site
                return str(self.order.pk)
            if name == "id" and pattern.startswith("admin/auth/user/"):
                return str(self.object_id("auth", "user"))
            return str(self.ids.get(name, MISSING))

        path = re.sub(r"<(?:(\w+):)?(\w+)>", value, pattern)
        return "/" + path + QUERIES.get(route.key, "")

    def object_id(self, app_label: str, model_name: str) -> Any:
        """The newest row (the world's, even when an earlier test left rows behind)."""
        model = apps.get_model(app_label, model_name)
        pk = model._default_manager.order_by("-pk").values_list("pk", flat=True).first()
        return MISSING if pk is None else pk


def classify(response: Any) -> str:
    status = response.status_code
    if status in (301, 302, 303, 307, 308):
        return LOGIN if "/login/" in response["Location"] else OK
    if 200 <= status < 300 or status == 405:
        return OK
    if status in (400, 401, 403, 404):
        return str(status)
    return f"status {status}"


def build_world() -> World:
    """One store network, a pickup order released to store A, a user per staff role and a key
    per API role. Built once per module (test_role_matrix.py rolls it back at the end)."""
    from orders.models import Channel
    from orders.services.api_clients import create_api_client
    from tests.factories.users import staff_user, superuser
    from tests.stores import scenario

    nodes = scenario.network()
    catalog = scenario.products()
    scenario.stock(nodes["a"], catalog["TEE"])
    with TestCase.captureOnCommitCallbacks(execute=True):
        order = scenario.routed_order(
            external_id="MATRIX-1", skus=[catalog["TEE"].sku], pickup_at=nodes["a"]
        )
    fulfillment = scenario.fulfillment_at(order, nodes["a"])
    channel = Channel.objects.get(pk=order.channel_id)

    users = {
        "store": scenario.associate("matrix-store", nodes["a"]),
        "cs": staff_user("matrix-cs", "customer_service"),
        "finance": staff_user("matrix-finance", "finance"),
        "ops": staff_user("matrix-ops", "ops_admin"),
        "superuser": superuser("matrix-root"),
    }
    keys = {
        "node_key": create_api_client(node_code=nodes["a"].code, name="matrix node").key,
        "channel_key": create_api_client(channel_code=channel.code, name="matrix channel").key,
    }
    clients: dict[str, Client] = {"anonymous": Client(REMOTE_ADDR=REMOTE_ADDR)}
    for role, user in users.items():
        clients[role] = Client(REMOTE_ADDR=REMOTE_ADDR)
        clients[role].force_login(user)
    for role, key in keys.items():
        clients[role] = Client(REMOTE_ADDR=REMOTE_ADDR, HTTP_AUTHORIZATION=f"Bearer {key}")
    subscription = _rows_for_every_admin_page(order, nodes, catalog, users["superuser"], channel)
    nodes["a"].can_accept_returns = True
    nodes["a"].save(update_fields=["can_accept_returns"])
    rma = _a_return(order)
    ids = {
        "fmt": "easypost",
        "pk": subscription.pk,
        "rma": rma.number,
        "channel_code": channel.code,
    }
    return World(clients=clients, order=order, fulfillment=fulfillment, ids=ids)


def _rows_for_every_admin_page(order, nodes, catalog, author, channel) -> Any:
    """A row of each model the admin lists, so that its change, delete and history pages check
    permissions on a real object (Django answers a missing object with a redirect before it
    checks permissions)."""
    from datetime import UTC, datetime, timedelta

    from django.utils import timezone

    from fulfillment.services.backtest import run_backtest
    from fulfillment.services.rulesets import create_rule_set
    from integrations.models import WebhookDelivery, WebhookSubscription
    from inventory.services.feeds import apply_snapshot
    from oms.api.models import IdempotencyKey
    from oms.core.actors import Actor
    from oms.events.models import Event
    from ops.services.rulesets import create_exception_rule_set
    from orders.models import ApiClient
    from orders.services.holds import place_hold

    actor = Actor.system("matrix")
    with TestCase.captureOnCommitCallbacks(execute=True):
        place_hold(order_id=order.pk, kind="manual", reason="role matrix", actor=actor)
    with TestCase.captureOnCommitCallbacks(execute=True):
        # counted 0 while 1 is reserved: an oversell, and a feed in the inbound message log
        apply_snapshot(
            node_code=nodes["a"].code,
            as_of=datetime(2030, 1, 1, tzinfo=UTC),
            counts={catalog["TEE"].sku: 0},
            source="matrix",
            message_id="count-1",
            actor=actor,
        )
    now = timezone.now()
    IdempotencyKey.objects.create(
        api_client=ApiClient.objects.get(channel=channel),
        key="matrix-1",
        method="POST",
        path="/api/v1/orders/",
        fingerprint="0" * 64,
        status="completed",
        created_at=now,
        expires_at=now + timedelta(days=1),
    )
    subscription = WebhookSubscription.objects.create(
        name="matrix", url="https://hooks.example.com/oms", event_types=["order.created"]
    )
    WebhookDelivery.objects.create(
        subscription=subscription,
        event=Event.objects.order_by("pk").first(),
        reason="event",
        status="delivered",
        created_at=now,
    )
    routing = create_rule_set(key="matrix", name="Matrix routing", config={}, author=author)
    run_backtest(
        rule_set_id=routing.pk, period_from=now - timedelta(days=1), period_to=now, user=author
    )
    create_exception_rule_set(
        name="Matrix rules",
        author=author,
        rules=[
            {"kind": "payment_failed", "queue": "payments", "priority": "p2", "sla_minutes": 60}
        ],
    )
    # a channel connected to its platform, and a call back to it in the outbox
    from channels.models import ChannelConnection, OutboundCall

    connection = ChannelConnection.objects.create(channel=channel, platform="shopify")
    OutboundCall.objects.create(
        connection=connection, order=order, action="fulfill", created_at=now, status="sent"
    )
    # a shipment (its console page) and a finance export (the finance area's pages)
    from fulfillment.models import FulfillmentOrder, Shipment
    from ops.models import FinanceExport

    Shipment.objects.create(
        fulfillment=FulfillmentOrder.objects.filter(order=order).first(),
        carrier="ups",
        tracking_number="1ZMATRIX",
        shipped_at=now,
    )
    FinanceExport.objects.create(
        kind="orders", file_format="csv", date_from=now.date(), date_to=now.date()
    )
    # django-axes' sign-in records (the lockout's admin pages)
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    AccessAttempt.objects.create(
        username="someone", ip_address="127.0.0.9", user_agent="matrix", failures_since_start=1
    )
    AccessLog.objects.create(username="someone", ip_address="127.0.0.9", user_agent="matrix")
    from migration.models import ImportJob, LegacyHandoff, ReconciliationSource

    ImportJob.objects.create(
        mapping_name="matrix", mapping_text="", source="matrix", kind="orders", input_name="x"
    )
    ReconciliationSource.objects.create(
        name="matrix", mapping_name="generic_stock_csv", input_path="migration/examples/stock.csv"
    )
    from inventory.models import InventoryReconciliation

    InventoryReconciliation.objects.create(source="matrix", reconciled_at=now)
    from migration.models import StatusReconciliation

    StatusReconciliation.objects.create(source="matrix", input_name="x", case_threshold=0)
    from migration.services.cutover import propose_plan

    propose_plan(channel_code=channel.code, mode="oms", author=None)
    LegacyHandoff.objects.create(order=order, reason="matrix", payload={}, next_attempt_at=now)
    AccessFailureLog.objects.create(
        username="someone", ip_address="127.0.0.9", user_agent="matrix", locked_out=False
    )
    return subscription


def _a_return(order: Any) -> Any:
    """A return of the world's order with an exchange and a refund, written as rows (the order
    has not shipped, so the return service would refuse it): the returns admin pages and the
    return API check access on real objects."""
    from returns.models import Exchange, Refund, Return, ReturnLine, ReturnPolicy
    from tests.returns.support import ensure_default_policy

    ensure_default_policy()
    rma = Return.objects.create(
        number="RMA-MATR-IX01",
        order=order,
        status="authorized",  # on its way to store A: the store screens can receive it
        return_node=order.pickup_node,
        source="admin",
        policy=ReturnPolicy.objects.order_by("pk").first(),
        currency=order.currency,
        exchange_kind="even",
        label_carrier="USPS",
        tracking_number="9400100000000000000001",
        label_pdf=b"%PDF-1.4 a return label",
    )
    ReturnLine.objects.create(
        rma=rma, order_line=order.lines.first(), quantity=1, reason_code="size_fit"
    )
    Exchange.objects.create(rma=rma, kind="even", currency=order.currency, items=[])
    Refund.objects.create(
        order=order,
        rma=None,
        kind="appeasement",
        amount=1,
        currency=order.currency,
        idempotency_key="matrix-refund",
        reason_code="other",
    )
    return rma


def changelist_actions(response: Any) -> set[str]:
    """The actions a changelist offers its viewer (none when it offers no action form)."""
    form = response.context["action_form"] if response.context else None
    if form is None:
        return set()
    return {name for name, _ in form.fields["action"].choices if name}
