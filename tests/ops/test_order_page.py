"""The order page for customer service: money in the order's minor units, actions offered by
the order's state, a note and a resent confirmation through their dialogs."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from oms.core.actors import Actor
from oms.events.models import Event
from ops.admin.order_page import money
from orders.services.customer_service import add_order_note
from tests.factories.orders import captured_order
from tests.factories.users import staff_user

pytestmark = pytest.mark.django_db


def test_money_has_the_currency_minor_units():
    assert money(Decimal("1234.5000"), "USD") == "$1,234.50"
    assert money(Decimal("1200.0000"), "JPY") == "¥1,200"
    assert money(Decimal("1.5000"), "KWD").endswith("1.500")
    assert money(None, "USD") == ""


def test_the_page_shows_totals_without_four_decimals_or_empty_braces():
    order = captured_order(unit_price="19.99")
    client = Client()
    client.force_login(staff_user("carla", "customer_service"))

    page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()

    assert "$19.99" in page
    assert "19.9900" not in page
    assert "{}" not in page.split('id="order-summary"')[1].split("</section>")[0]


def test_customer_service_adds_a_note_and_resends_the_confirmation():
    order = captured_order()
    client = Client()
    client.force_login(staff_user("carla", "customer_service"))

    noted = client.post(
        reverse("admin:orders_order_add_note_detail", args=[order.pk]),
        {"_form_submitted": "True", "text": "Called: leave at the back door"},
    )
    resent = client.post(
        reverse("admin:orders_order_resend_confirmation_detail", args=[order.pk]),
        {"_form_submitted": "True", "reason": "not received"},
    )

    assert (noted.status_code, resent.status_code) == (302, 302)
    order.refresh_from_db()
    assert order.notes.endswith("carla] Called: leave at the back door")
    [note] = Event.objects.filter(stream=order.stream, type="order.note_added")
    assert note.payload == {"by": "carla", "chars": 30}  # the text stays on the row
    [confirmation] = Event.objects.filter(stream=order.stream, type="order.confirmation_resent")
    assert confirmation.payload == {"number": order.number, "reason": "not received"}
    page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "Called: leave at the back door" in page
    assert "Order confirmation sent to the customer again: not received" in page


def test_an_empty_note_is_refused():
    from oms.core.errors import DomainError

    order = captured_order()
    with pytest.raises(DomainError):
        add_order_note(order_id=order.pk, text="   ", actor=Actor.system("t"))


def test_finance_reads_the_order_page_without_any_action():
    order = captured_order()
    client = Client()
    client.force_login(staff_user("fiona", "finance"))

    page = client.get(reverse("admin:orders_order_change", args=[order.pk]))

    assert page.status_code == 200
    assert page.context["actions_detail"] == []
    url = reverse("admin:orders_order_add_note_detail", args=[order.pk])
    assert client.post(url, {"_form_submitted": "True", "text": "x"}).status_code == 403
