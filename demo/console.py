"""The console by role, for the demo: a staff user per role (customer service, finance, ops)
sharing the admin's fresh password, so a newcomer can see what each role sees; and a finance
export of this month's payments, so the finance area is not empty."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from ops.finance.exports import request_export
from ops.models import FinanceExport

ROLE_USERS = {"cs": "customer_service", "finance": "finance", "ops": "ops_admin"}


def reset_role_users(password: str) -> list[str]:
    """Make sure each role's demo user exists, in its group only, with `password`."""
    names = []
    for username, group_name in ROLE_USERS.items():
        group = Group.objects.filter(name=group_name).first()
        if group is None:  # the group migrations did not run (a flushed test database)
            continue
        user, _ = get_user_model().objects.update_or_create(
            username=username,
            defaults={"is_staff": True, "is_superuser": False, "is_active": True},
        )
        user.set_password(password)
        user.save(update_fields=["password"])
        user.groups.set([group])
        names.append(username)
    return names


def demo_finance_export() -> FinanceExport | None:
    """This month's payments as XLSX, once a day (run after the demo orders' captures
    committed)."""
    today = timezone.localdate()
    if FinanceExport.objects.filter(kind="payments", created_at__date=today).exists():
        return None
    return request_export(
        kind="payments",
        file_format="xlsx",
        date_from=today.replace(day=1),
        date_to=today,
        user=get_user_model().objects.filter(username="finance").first(),
    )
