"""stores/migrations/0003: accounts that are only store associates lose their staff status."""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import connection

pytestmark = pytest.mark.django_db

migration = importlib.import_module("stores.migrations.0003_store_associates_leave_the_admin")


class _Editor:
    connection = connection


def test_only_store_associates_lose_staff_status():
    User = get_user_model()
    associate_group, _ = Group.objects.get_or_create(name="store_associate")
    cs_group, _ = Group.objects.get_or_create(name="customer_service")
    only = User.objects.create_user("only", is_staff=True)
    only.groups.add(associate_group)
    also_cs = User.objects.create_user("also-cs", is_staff=True)
    also_cs.groups.add(associate_group, cs_group)
    own_perm = User.objects.create_user("own-perm", is_staff=True)
    own_perm.groups.add(associate_group)
    own_perm.user_permissions.add(Permission.objects.get(codename="view_order"))
    boss = User.objects.create_superuser("boss", is_staff=True)
    boss.groups.add(associate_group)
    cs = User.objects.create_user("cs", is_staff=True)
    cs.groups.add(cs_group)

    migration.associates_leave_staff(apps, _Editor())

    staff = dict(User.objects.values_list("username", "is_staff"))
    assert staff == {
        "only": False,
        "also-cs": True,
        "own-perm": True,
        "boss": True,
        "cs": True,
    }
