import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.urls import reverse

from inventory.models import NodeKind
from oms.api.keys import matches
from orders.models import ApiClient
from tests.admin.conftest import client_for, messages_of
from tests.factories.inventory import NodeFactory, ProductFactory, StockLevelFactory, StoreFactory
from tests.factories.orders import ChannelFactory, issue_api_key
from tests.factories.users import staff_user

pytestmark = pytest.mark.django_db


def test_adding_an_api_client_goes_through_the_service_and_shows_the_key_once(
    superuser_client,
):
    channel = ChannelFactory(code="erp")
    add = reverse("admin:orders_apiclient_add")

    form = superuser_client.get(add)
    assert form.status_code == 200
    assert set(form.context["adminform"].form.fields) == {"name", "channel"}
    assert "key_hash" not in form.content.decode()

    response = superuser_client.post(add, {"name": "ERP sync", "channel": channel.pk})

    assert response.status_code == 302
    client = ApiClient.objects.get(name="ERP sync")
    assert client.channel == channel
    [key_message] = [text for level, text in messages_of(response) if level == "warning"]
    key = re.search(r"(oms_\S+)", key_message).group(1)
    assert key.startswith(f"oms_{client.prefix}_")
    assert matches(key, client.key_hash)
    assert client.history.get().history_type == "+"


def test_api_client_page_never_shows_the_key_hash_and_revoke_is_a_service_call(
    superuser_client,
):
    issued = issue_api_key(ChannelFactory(code="web"), "storefront")
    client = issued.client
    change = reverse("admin:orders_apiclient_change", args=[client.pk])

    page = superuser_client.get(change)
    assert page.status_code == 200
    assert client.key_hash not in page.content.decode()
    assert superuser_client.post(change, {"name": "renamed"}).status_code == 403

    listing = superuser_client.get(reverse("admin:orders_apiclient_changelist"))
    assert client.prefix in listing.content.decode()
    assert client.key_hash not in listing.content.decode()

    response = superuser_client.post(
        reverse("admin:orders_apiclient_changelist"),
        {"action": "revoke_selected", ACTION_CHECKBOX_NAME: [client.pk]},
    )
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.revoked_at is not None
    assert ("success", "1 API client revoked.") in messages_of(response)


def test_api_client_history_cannot_be_reverted(superuser_client):
    client = issue_api_key(ChannelFactory(code="web")).client
    version = client.history.get()
    url = reverse("admin:orders_apiclient_simple_history", args=[client.pk, version.pk])

    assert superuser_client.get(url).status_code == 200
    assert superuser_client.post(url, {"name": "x"}).status_code == 403


def test_product_history_records_who_changed_it(superuser_client, admin_user_):
    product = ProductFactory(sku="ABC-1", name="Old name")
    change = reverse("admin:inventory_product_change", args=[product.pk])

    response = superuser_client.post(
        change, {"sku": "ABC-1", "name": "New name", "is_active": "on", "weight_grams": ""}
    )

    assert response.status_code == 302
    latest = product.history.first()
    assert (latest.name, latest.history_user) == ("New name", admin_user_)
    history = superuser_client.get(reverse("admin:inventory_product_history", args=[product.pk]))
    assert history.status_code == 200
    assert admin_user_.username in history.content.decode()


def test_a_viewer_cannot_revert_through_the_history_page():
    product = ProductFactory(name="Original")
    version = product.history.get()
    viewer_user = staff_user("viewer")
    viewer_user.user_permissions.add(Permission.objects.get(codename="view_product"))
    viewer = client_for(viewer_user)
    url = reverse("admin:inventory_product_simple_history", args=[product.pk, version.pk])

    assert viewer.get(url).status_code == 200
    assert viewer.post(url, {"sku": product.sku, "name": "Hacked"}).status_code == 403
    product.refresh_from_db()
    assert product.name == "Original"


def test_node_stock_and_idempotency_pages_render(superuser_client):
    dc = NodeFactory(code="dc-1")
    store = StoreFactory(code="store-1")
    StockLevelFactory(node=dc, product=ProductFactory(sku="SKU-A"))
    StockLevelFactory(node=store, product=ProductFactory(sku="SKU-B"))

    node_page = superuser_client.get(reverse("admin:inventory_node_change", args=[dc.pk]))
    assert node_page.status_code == 200
    assert [f[0] for f in node_page.context["adminform"].fieldsets] == [
        "Identity",
        "Address and coordinates",
        "Capabilities",
        "Capacity and routing",
        "Record",
    ]

    stock = reverse("admin:inventory_stocklevel_changelist")

    def skus(**params) -> list[str]:
        response = superuser_client.get(stock, params)
        assert response.status_code == 200
        return sorted(s.product.sku for s in response.context["cl"].result_list)

    assert skus() == ["SKU-A", "SKU-B"]
    assert skus(node__kind__exact=NodeKind.STORE) == ["SKU-B"]
    assert skus(node__id__exact=dc.pk) == ["SKU-A"]
    assert skus(q="sku-b") == ["SKU-B"]
    assert superuser_client.get(reverse("admin:inventory_stocklevel_add")).status_code == 403

    for name in (
        "admin:orders_channel_changelist",
        "admin:inventory_product_changelist",
        "admin:inventory_node_changelist",
        "admin:orders_hold_changelist",
        "admin:api_idempotencykey_changelist",
    ):
        assert superuser_client.get(reverse(name)).status_code == 200, name
