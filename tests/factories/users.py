from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

PASSWORD = "admin-test-password"


def superuser(username: str = "admin"):
    return get_user_model().objects.create_superuser(
        username=username, email=f"{username}@example.com", password=PASSWORD
    )


def staff_user(username: str, *groups: str):
    """A staff user in the named groups (created by orders/migrations/0002_groups.py)."""
    user = get_user_model().objects.create_user(
        username=username, email=f"{username}@example.com", password=PASSWORD, is_staff=True
    )
    found = list(Group.objects.filter(name__in=groups))
    assert len(found) == len(groups), f"missing groups: {set(groups) - {g.name for g in found}}"
    user.groups.add(*found)
    return user
