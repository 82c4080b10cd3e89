"""The groups of orders/migrations/0002_groups.py and what they may do in the admin.

The groups are data created by a migration: a transactional test elsewhere in the suite that
flushes the database would remove them for the tests that run after it.
"""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.urls import reverse

from orders.models import Hold
from tests.admin.conftest import client_for
from tests.factories.orders import captured_order
from tests.factories.users import staff_user

pytestmark = pytest.mark.django_db


def codenames(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
    }


def test_groups_have_exactly_their_permissions():
    assert codenames("customer_service") == {
        "orders.view_order",
        "orders.view_orderline",
        "orders.view_hold",
        "orders.view_channel",
        "events.view_event",
        "orders.change_order",
        "orders.change_hold",
        "fulfillment.view_routingdecision",
        # the fulfillment and shipment pages (ops/migrations/0007)
        "fulfillment.view_fulfillmentorder",
        "fulfillment.view_fulfillmentorderline",
        "fulfillment.view_shipment",
        "fulfillment.view_trackingevent",
        # returns, refunds and appeasements (returns/migrations/0002)
        "returns.view_return",
        "returns.add_return",
        "returns.change_return",
        "returns.view_returnline",
        "returns.view_returnpolicy",
        "returns.view_refund",
        "returns.add_refund",
        "returns.view_exchange",
    }
    assert codenames("store_associate") == set()  # the store screens only (stores/0003)
    assert codenames("finance") == {
        "orders.view_order",
        "orders.view_orderline",
        # (no channels and no event log: ops/migrations/0011; the order page's timeline needs
        # only the order)
        # the finance area (ops/migrations/0010) and the ERP documents (erp/migrations/0002)
        "ops.view_financeexport",
        "ops.add_financeexport",
        "erp.view_erpdocument",
        # returns read, declined refunds retried (returns/migrations/0002)
        "returns.view_return",
        "returns.view_returnline",
        "returns.view_returnpolicy",
        "returns.view_refund",
        "returns.change_refund",
        "returns.view_exchange",
    }
    ops = codenames("ops_admin")
    assert {
        "orders.add_apiclient",
        "orders.change_apiclient",
        "orders.delete_channel",
        "orders.change_order",
        "orders.change_hold",
        "inventory.change_node",
        "inventory.add_product",
        "inventory.view_stocklevel",
        "events.view_event",
        "api.view_idempotencykey",
    } <= ops
    assert not {p for p in ops if p.startswith("events.") and p != "events.view_event"}
    assert not {p for p in ops if p.startswith("auth.")}


def test_customer_service_views_orders_and_places_holds():
    order = captured_order()
    client = client_for(staff_user("cs", "customer_service"))

    assert client.get(reverse("admin:orders_order_changelist")).status_code == 200
    page = client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert page.status_code == 200
    assert "order.created" in page.content.decode()

    client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "place_manual_hold", ACTION_CHECKBOX_NAME: [order.pk]},
    )
    assert Hold.objects.filter(order=order).count() == 1


def test_finance_views_but_cannot_change_an_order():
    order = captured_order()
    client = client_for(staff_user("fin", "finance"))
    change = reverse("admin:orders_order_change", args=[order.pk])

    page = client.get(change)
    assert page.status_code == 200
    assert page.context["adminform"].form.fields == {}
    assert client.post(change, {"notes": "x"}).status_code == 403

    listing = client.get(reverse("admin:orders_order_changelist"))
    assert listing.context["action_form"] is None  # no action it may run
    client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "place_manual_hold", ACTION_CHECKBOX_NAME: [order.pk]},
    )
    detail = reverse("admin:orders_order_place_hold_detail", args=[order.pk])
    assert client.post(detail, {"_form_submitted": "True", "reason": "x"}).status_code == 403
    assert not Hold.objects.exists()


def test_the_admin_refuses_a_store_associate_even_with_staff_status():
    """Store associates get the store screens only (docs/security.md, "Least privilege"):
    an account that is only a store associate is sent to the admin's login, staff or not."""
    order = captured_order()
    client = client_for(staff_user("store", "store_associate"))

    for url in (
        reverse("admin:index"),
        reverse("admin:orders_order_changelist"),
        reverse("admin:orders_order_change", args=[order.pk]),
        reverse("admin:inventory_stocklevel_changelist"),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url


def test_the_admin_login_refuses_a_store_associate(client):
    from tests.factories.users import PASSWORD

    staff_user("store", "store_associate")

    client.post(reverse("admin:login"), {"username": "store", "password": PASSWORD})

    assert client.get(reverse("admin:index")).status_code == 302


def test_a_store_associate_with_another_role_keeps_that_role_in_the_admin():
    order = captured_order()
    client = client_for(staff_user("lead", "store_associate", "customer_service"))

    assert client.get(reverse("admin:orders_order_change", args=[order.pk])).status_code == 200


def test_signing_in_at_the_admin_login_lands_on_the_dashboard(db):
    from django.test import Client

    from tests.factories.users import PASSWORD, superuser

    superuser("boss")

    response = Client().post("/admin/login/", {"username": "boss", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
