from datetime import UTC, datetime

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django.utils import timezone

from oms.core.actors import Actor
from oms.events.models import Event
from orders.models import Hold, HoldKind, HoldStatus
from orders.services.holds import place_hold
from tests.admin.conftest import messages_of
from tests.factories.orders import captured_order

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:orders_order_changelist"


def change_url(order) -> str:
    return reverse("admin:orders_order_change", args=[order.pk])


def place_manual_hold_action(client, *orders):
    return client.post(
        reverse(CHANGELIST),
        {"action": "place_manual_hold", ACTION_CHECKBOX_NAME: [o.pk for o in orders]},
    )


def events_of(order, type_: str) -> list[Event]:
    return list(Event.objects.filter(stream=order.stream, type=type_))


def test_changelist_lists_orders_and_searches_by_email(superuser_client):
    ada = captured_order(external_id="EXT-1", customer_email="ada@example.com")
    captured_order(external_id="EXT-2", customer_email="bob@example.com", customer_name="Bob")

    response = superuser_client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    assert response.context["cl"].result_count == 2

    response = superuser_client.get(reverse(CHANGELIST), {"q": "ada@example.com"})
    assert response.status_code == 200
    assert [o.pk for o in response.context["cl"].result_list] == [ada.pk]


def test_changelist_filters_on_hold_and_placed_date(superuser_client, admin_user_):
    held = captured_order(external_id="EXT-1")
    other = captured_order(external_id="EXT-2", placed_at=datetime(2026, 11, 3, 9, 0, tzinfo=UTC))
    place_hold(order_id=held.pk, kind=HoldKind.FRAUD, reason="", actor=Actor.system())

    def listed(**params) -> list[int]:
        response = superuser_client.get(reverse(CHANGELIST), params)
        assert response.status_code == 200
        return sorted(o.pk for o in response.context["cl"].result_list)

    assert listed(on_hold="yes") == [held.pk]
    assert listed(on_hold="no") == [other.pk]
    # Both ends inclusive by calendar date, although placed_at is a datetime.
    assert listed(placed_at_from="2026-11-01", placed_at_to="2026-11-01") == [held.pk]
    assert listed(placed_at_from="2026-11-02") == [other.pk]


def test_change_page_is_read_only_and_shows_the_timeline(superuser_client):
    order = captured_order()

    response = superuser_client.get(change_url(order))

    assert response.status_code == 200
    content = response.content.decode()
    assert 'id="order-timeline"' in content
    assert "order.created" in content  # the raw payload's summary line
    timeline = response.context["page"]["timeline"]
    assert [row["type"] for row in timeline] == ["order.created"]
    assert timeline[0]["text"].startswith("Order captured with")
    # Nothing on the page can be saved: no editable fields, no save button.
    assert response.context["adminform"].form.fields == {}
    assert 'name="_save"' not in content


def test_orders_cannot_be_added_changed_or_deleted(superuser_client):
    order = captured_order()

    assert superuser_client.get(reverse("admin:orders_order_add")).status_code == 403
    assert superuser_client.post(change_url(order), {"notes": "x"}).status_code == 403
    delete = reverse("admin:orders_order_delete", args=[order.pk])
    assert superuser_client.post(delete, {"post": "yes"}).status_code == 403


def test_place_manual_hold_action_is_idempotent(superuser_client, admin_user_):
    order = captured_order()

    first = place_manual_hold_action(superuser_client, order)
    second = place_manual_hold_action(superuser_client, order)

    assert first.status_code == second.status_code == 302
    hold = Hold.objects.get(order=order)
    assert (hold.kind, hold.status, hold.reason) == (
        HoldKind.MANUAL,
        HoldStatus.ACTIVE,
        "Placed from admin",
    )
    assert hold.placed_by == admin_user_.username
    [event] = events_of(order, "order.hold_placed")
    assert (event.actor_kind, event.actor_label) == ("user", admin_user_.username)
    assert event.correlation_id  # the admin request's correlation id
    assert ("success", "1 order on manual hold.") in messages_of(first)


def test_place_manual_hold_reports_a_refusal_as_a_message(superuser_client):
    open_order = captured_order(external_id="EXT-1")
    cancelled = captured_order(external_id="EXT-2")
    cancelled.cancel(reason="test", at=timezone.now())
    cancelled.save()

    response = place_manual_hold_action(superuser_client, open_order, cancelled)

    assert response.status_code == 302
    assert list(Hold.objects.values_list("order_id", flat=True)) == [open_order.pk]
    found = messages_of(response)
    assert ("success", "1 order on manual hold.") in found
    [(level, text)] = [m for m in found if m[0] == "error"]
    assert text.startswith(f"{cancelled.number}: ")
    assert "only open orders can be held" in text


def test_place_hold_from_the_change_page_uses_a_dialog(superuser_client):
    order = captured_order()
    url = reverse("admin:orders_order_place_hold_detail", args=[order.pk])

    dialog = superuser_client.get(url)
    assert dialog.status_code == 200
    assert 'name="reason"' in dialog.content.decode()
    assert not Hold.objects.exists()  # GET only shows the form

    response = superuser_client.post(
        url, {"_form_submitted": "True", "reason": "Customer asked to wait"}
    )
    assert response.status_code == 302
    assert response["Location"] == change_url(order)
    assert Hold.objects.get(order=order).reason == "Customer asked to wait"

    # htmx (the dialog's own submit) gets HX-Redirect instead of a 302.
    htmx = superuser_client.post(
        url, {"_form_submitted": "True", "reason": "again"}, headers={"HX-Request": "true"}
    )
    assert htmx.status_code == 200
    assert htmx["HX-Redirect"] == change_url(order)
    assert Hold.objects.filter(order=order).count() == 1


def test_release_hold_from_the_change_page(superuser_client, admin_user_):
    order = captured_order()
    hold = place_hold(order_id=order.pk, kind=HoldKind.FRAUD, reason="", actor=Actor.system())
    url = reverse("admin:orders_order_release_hold_detail", args=[order.pk])

    response = superuser_client.post(
        url, {"_form_submitted": "True", "hold": hold.pk, "note": "Checked by phone"}
    )

    assert response.status_code == 302
    hold.refresh_from_db()
    assert hold.status == HoldStatus.RELEASED
    assert hold.released_by == admin_user_.username
    [event] = events_of(order, "order.hold_released")
    assert event.payload["note"] == "Checked by phone"
    assert event.actor_label == admin_user_.username

    # Without an active hold, "Release hold" is no longer offered: a second release is refused.
    again = superuser_client.post(url, {"_form_submitted": "True", "hold": hold.pk})
    assert again.status_code == 403
    assert len(events_of(order, "order.hold_released")) == 1


def test_release_selected_holds_on_the_hold_admin(superuser_client):
    order = captured_order()
    hold = place_hold(order_id=order.pk, kind=HoldKind.MANUAL, reason="", actor=Actor.system())
    url = reverse("admin:orders_hold_changelist")
    data = {"action": "release_selected_holds", ACTION_CHECKBOX_NAME: [hold.pk]}

    first = superuser_client.post(url, data)
    second = superuser_client.post(url, data)

    assert first.status_code == second.status_code == 302
    assert ("success", "1 hold released.") in messages_of(first)
    [error] = [text for level, text in messages_of(second) if level == "error"]
    assert "already released" in error
    assert len(events_of(order, "order.hold_released")) == 1
