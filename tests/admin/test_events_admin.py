import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from oms.events.models import Event
from tests.factories.orders import captured_order

pytestmark = pytest.mark.django_db


def test_event_changelist_lists_searches_and_filters(superuser_client):
    order = captured_order()
    captured_order(external_id="EXT-2")
    url = reverse("admin:events_event_changelist")

    response = superuser_client.get(url)
    assert response.status_code == 200
    assert "order.created" in response.content.decode()

    by_stream = superuser_client.get(url, {"q": order.number})
    assert [e.stream for e in by_stream.context["cl"].result_list] == [order.stream]

    by_type = superuser_client.get(url, {"type": "order.hold_placed"})
    assert list(by_type.context["cl"].result_list) == []


def test_event_admin_is_read_only(superuser_client):
    captured_order()
    event = Event.objects.get()
    change = reverse("admin:events_event_change", args=[event.pk])
    delete = reverse("admin:events_event_delete", args=[event.pk])
    changelist = reverse("admin:events_event_changelist")

    page = superuser_client.get(change)
    assert page.status_code == 200  # view only
    assert page.context["adminform"].form.fields == {}

    assert superuser_client.get(reverse("admin:events_event_add")).status_code == 403
    assert superuser_client.post(change, {"type": "x"}).status_code == 403
    assert superuser_client.post(delete, {"post": "yes"}).status_code == 403

    listing = superuser_client.get(changelist)
    assert listing.context["action_form"] is None
    assert "delete_selected" not in listing.content.decode()
    superuser_client.post(
        changelist, {"action": "delete_selected", ACTION_CHECKBOX_NAME: [event.pk], "post": "yes"}
    )
    assert Event.objects.filter(pk=event.pk).exists()
