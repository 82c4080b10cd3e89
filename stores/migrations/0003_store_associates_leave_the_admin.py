"""Store associates leave the admin (docs/security.md, "Least privilege").

1. The `store_associate` group loses every admin permission it had from
   orders/migrations/0002_groups.py (view orders, nodes, products, stock levels): an associate
   sees only the store screens, scoped to their stores.
2. Accounts that are ONLY store associates (in that group and no other, not superusers, no
   permission of their own) lose their staff status: the store screens no longer need it, and
   the admin refuses such accounts anyway (stores/apps.py). Reversing does not give staff status
   back: which accounts had it is not known afterwards, and giving it back would reopen the
   admin's login to them.
"""

from django.conf import settings
from django.db import migrations

from oms.core.migration_grants import revoke_permissions

GROUP = "store_associate"


def associates_leave_staff(apps, schema_editor):
    User = apps.get_model(settings.AUTH_USER_MODEL)
    users = User.objects.using(schema_editor.connection.alias)
    in_another_group = User.groups.through.objects.exclude(group__name=GROUP).values("user_id")
    with_own_permissions = User.user_permissions.through.objects.values("user_id")
    only_associates = (
        users.filter(is_staff=True, is_superuser=False, groups__name=GROUP)
        .exclude(pk__in=in_another_group)
        .exclude(pk__in=with_own_permissions)
        .values_list("pk", flat=True)
    )
    users.filter(pk__in=list(only_associates)).update(is_staff=False)


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("orders", "0002_groups"),
        ("inventory", "0001_initial"),
        ("stores", "0002_ops_admin_membership_permissions"),
    ]

    operations = [
        revoke_permissions("orders", {GROUP: ("view_order",)}),
        revoke_permissions("inventory", {GROUP: ("view_node", "view_product", "view_stocklevel")}),
        migrations.RunPython(associates_leave_staff, migrations.RunPython.noop),
    ]
