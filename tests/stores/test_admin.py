"""Giving an associate access in the admin: store memberships."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from stores.models import StoreMembership
from tests.factories.users import superuser
from tests.stores import scenario

pytestmark = pytest.mark.django_db


def test_ops_admin_may_manage_store_memberships():
    codenames = set(
        Group.objects.get(name="ops_admin")
        .permissions.filter(content_type__app_label="stores")
        .values_list("codename", flat=True)
    )

    assert codenames == {
        "add_storemembership",
        "change_storemembership",
        "delete_storemembership",
        "view_storemembership",
    }


def test_an_admin_adds_a_membership_and_the_associate_can_use_the_screens(nodes):
    client = Client()
    client.force_login(superuser())

    user = scenario.associate("dana")  # in the group, no store yet
    screens = Client()
    screens.force_login(user)
    assert screens.get(reverse("stores:queue")).status_code == 404

    add = client.get(reverse("admin:stores_storemembership_add"))
    assert add.status_code == 200
    response = client.post(
        reverse("admin:stores_storemembership_add"),
        {"user": user.pk, "node": nodes["a"].pk, "role": "lead"},
    )

    assert response.status_code == 302
    assert StoreMembership.objects.get(user=user).node == nodes["a"]
    assert screens.get(reverse("stores:queue")).status_code == 200
    changelist = client.get(reverse("admin:stores_storemembership_changelist"))
    assert "dana" in changelist.content.decode()


def test_a_membership_must_be_of_a_store(nodes):
    client = Client()
    client.force_login(superuser())

    user = scenario.associate("erin")

    response = client.post(
        reverse("admin:stores_storemembership_add"),
        {"user": user.pk, "node": nodes["dc"].pk, "role": "associate"},
    )

    assert response.status_code == 200  # the form again, with the error
    assert not StoreMembership.objects.exists()
