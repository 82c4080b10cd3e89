"""The default return policy (version 1, every channel without its own) and the staff groups'
permissions on returns (the groups are orders/migrations/0002_groups.py's).

- customer_service: open, authorize, reject, receive and inspect returns; refund and appease
  (up to the policy's limit for the role); see policies.
- finance: see everything, retry a refund the provider declined.
- ops_admin: everything, including new policy versions.
"""

from decimal import Decimal

from django.contrib.auth.management import create_permissions
from django.db import migrations

CRUD = ("add", "change", "delete", "view")
MODELS = ("return", "returnline", "returnpolicy", "refund", "exchange")

GROUPS = {
    "customer_service": [
        "view_return", "add_return", "change_return", "view_returnline", "view_returnpolicy",
        "view_refund", "add_refund", "view_exchange",
    ],
    "finance": [
        "view_return", "view_returnline", "view_returnpolicy", "view_refund", "change_refund",
        "view_exchange",
    ],
    "ops_admin": [
        "view_return", "add_return", "change_return", "view_returnline", "view_returnpolicy",
        "add_returnpolicy", "view_refund", "add_refund", "change_refund", "view_exchange",
    ],
}


def forwards(apps, schema_editor):
    using = schema_editor.connection.alias
    app_config = apps.get_app_config("returns")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=using)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        group, _ = Group.objects.using(using).get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.using(using).filter(
                content_type__app_label="returns", codename__in=codenames
            )
        )
    ReturnPolicy = apps.get_model("returns", "ReturnPolicy")
    if not ReturnPolicy.objects.using(using).filter(channel__isnull=True).exists():
        ReturnPolicy.objects.using(using).create(
            channel=None,
            version=1,
            window_days=30,
            non_returnable_skus=[],
            restocking_fee_percent=Decimal("0"),
            return_shipping_paid_by="merchant",
            return_label_fee=Decimal("0"),
            shipping_refund="full_return",
            refund_before_receipt=False,
            advance_exchange_days=14,
            appeasement_limits={
                "customer_service": "25.00",
                "finance": "250.00",
                "ops_admin": "250.00",
                "api_client": "0",
            },
            note="Default: 30 days, free returns, no restocking fee.",
            created_by="migration",
        )


def backwards(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.using(schema_editor.connection.alias).filter(
        content_type__app_label="returns"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("returns", "0001_initial"),
        ("orders", "0002_groups"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
