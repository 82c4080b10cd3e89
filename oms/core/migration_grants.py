"""Granting model permissions to the staff groups (orders/migrations/0002_groups.py) from a data
migration, one way for every app:

    operations = [grant_permissions("inventory", {"ops_admin": ("view_oversell", ...)})]

Permissions are created first: on a fresh database the post_migrate signal that normally creates
them has not run yet. A codename that does not exist is an error (a typo must not silently grant
nothing); a group that does not exist is skipped. Reversing removes exactly what was granted.

Migrations import this module, so what it does must not change; a new behaviour is a new
function."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.management import create_permissions
from django.db import migrations


def _permissions(apps: Any, using: str, app_label: str, codenames: Iterable[str]) -> list[Any]:
    Permission = apps.get_model("auth", "Permission")
    wanted = set(codenames)
    found = list(
        Permission.objects.using(using).filter(
            content_type__app_label=app_label, codename__in=wanted
        )
    )
    missing = wanted - {p.codename for p in found}
    if missing:
        raise LookupError(f"{app_label} permissions do not exist: {sorted(missing)}")
    return found


def _groups(apps: Any, using: str, grants: Mapping[str, Iterable[str]]) -> Iterable[Any]:
    Group = apps.get_model("auth", "Group")
    for name, codenames in grants.items():
        group = Group.objects.using(using).filter(name=name).first()
        if group is not None:
            yield group, codenames


def grant_permissions(app_label: str, grants: Mapping[str, Iterable[str]]) -> migrations.RunPython:
    """A RunPython that gives each group (by name) its codenames of `app_label`, and takes
    them back when reversed."""
    grants = {name: tuple(codenames) for name, codenames in grants.items()}

    def grant(apps: Any, schema_editor: Any) -> None:
        using = schema_editor.connection.alias
        app_config = apps.get_app_config(app_label)
        app_config.models_module = True  # migration state apps have none; create_permissions
        create_permissions(app_config, apps=apps, verbosity=0, using=using)  # skips such apps
        app_config.models_module = None
        for group, codenames in _groups(apps, using, grants):
            group.permissions.add(*_permissions(apps, using, app_label, codenames))

    def revoke(apps: Any, schema_editor: Any) -> None:
        using = schema_editor.connection.alias
        for group, codenames in _groups(apps, using, grants):
            group.permissions.remove(*_permissions(apps, using, app_label, codenames))

    return migrations.RunPython(grant, revoke)


def revoke_permissions(
    app_label: str, revocations: Mapping[str, Iterable[str]]
) -> migrations.RunPython:
    """The mirror of grant_permissions: a RunPython that takes each group's codenames of
    `app_label` away, and gives them back when reversed."""
    granting = grant_permissions(app_label, revocations)
    revoke = granting.reverse_code
    if revoke is None:  # grant_permissions always has its reverse
        raise TypeError("grant_permissions returned no reverse")
    return migrations.RunPython(revoke, granting.code)
