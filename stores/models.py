"""Who works at which store: a store associate sees and works only their stores' fulfillment
orders on the store screens (stores/views.py). Access also needs the `store_associate` group,
not a staff account: associates get no admin (stores/selectors.py)."""

from django.conf import settings
from django.db import models

from inventory.models import NodeKind


class StoreRole(models.TextChoices):
    ASSOCIATE = "associate", "Associate"
    LEAD = "lead", "Lead"


class StoreMembership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="store_memberships"
    )
    node = models.ForeignKey(
        "inventory.Node",
        on_delete=models.CASCADE,
        related_name="store_memberships",
        limit_choices_to={"kind": NodeKind.STORE},
        verbose_name="store",
    )
    role = models.CharField(max_length=10, choices=StoreRole.choices, default=StoreRole.ASSOCIATE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["node_id", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "node"], name="store_membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} at {self.node.code} ({self.get_role_display().lower()})"
