"""Reads for the store screens, always scoped to the stores the user works at.

A user may use the screens when they are an active account in the `store_associate` group with at
least one StoreMembership (of a store node). Staff status is NOT needed, and an account that is
only a store associate is refused by the admin (`is_admin_refused`, stores/apps.py): the screens
are all an associate may see (docs/security.md, "Least privilege"). Everything else they can see
goes through `stores_of(user)`: a fulfillment order, line or shipment of another store is simply
not found, so the views answer 404 and never reveal that it exists.
"""

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, QuerySet, Sum

from fulfillment.models import (
    FulfillmentOrder,
    FulfillmentOrderLine,
    FulfillmentStatus,
    Shipment,
)
from fulfillment.models.fulfillment_orders import AT_NODE_STATUSES
from inventory.models import Node, NodeKind
from stores.models import StoreMembership, StoreRole

STORE_ASSOCIATE_GROUP = "store_associate"

S = FulfillmentStatus
# Work the store still has to do: what the queue lists.
QUEUE_STATUSES = list(AT_NODE_STATUSES)
TO_PICK_STATUSES = [S.RELEASED, S.ACCEPTED, S.PICKING]


def _may_use_screens(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.pk is not None)


def _memberships(user: Any) -> QuerySet[StoreMembership]:
    return StoreMembership.objects.filter(
        user_id=user.pk,
        node__kind=NodeKind.STORE,
        user__groups__name=STORE_ASSOCIATE_GROUP,
    )


def is_store_associate(user: Any) -> bool:
    """May this user use the store screens at all? (One query.)"""
    return _may_use_screens(user) and _memberships(user).exists()


def is_store_lead(user: Any, node_id: int) -> bool:
    """A lead of this store: the supervisor who may unlock a pickup hand-over locked after too
    many wrong codes (docs/security.md)."""
    return (
        _may_use_screens(user)
        and _memberships(user).filter(node_id=node_id, role=StoreRole.LEAD).exists()
    )


def is_admin_refused(user: Any) -> bool:
    """Is this account only a store associate (in `store_associate` and no other group, not a
    superuser)? The admin refuses it even when someone ticked its staff status. Cached on the
    user object: one query per request."""
    if not getattr(user, "is_authenticated", False) or user.is_superuser:
        return False
    cached = getattr(user, "_oms_admin_refused", None)
    if cached is None:
        groups = set(user.groups.values_list("name", flat=True))
        cached = groups == {STORE_ASSOCIATE_GROUP}
        user._oms_admin_refused = cached
    return bool(cached)


def stores_of(user: Any) -> QuerySet[Node]:
    """The store nodes the user works at; none for anyone who may not use the screens."""
    if not _may_use_screens(user):
        return Node.objects.none()
    return Node.objects.filter(pk__in=_memberships(user).values("node_id")).order_by("name", "id")


def fulfillment_scope(user: Any) -> QuerySet[FulfillmentOrder]:
    """Every fulfillment order released to the user's stores, open or finished (a finished one
    stays visible so the associate sees the outcome of what they just did)."""
    return (
        FulfillmentOrder.objects.filter(node__in=stores_of(user))
        .exclude(status=S.PENDING)
        .select_related("order", "node")
    )


def fulfillments_for_user(user: Any) -> QuerySet[FulfillmentOrder]:
    """Open work at the user's stores (pickup, curbside and ship-from-store), oldest first."""
    return (
        fulfillment_scope(user)
        .filter(status__in=QUEUE_STATUSES)
        .annotate(line_count=Count("lines"), unit_count=Sum("lines__quantity"))
        .order_by("order__placed_at", "id")
    )


def fulfillment_for_user(user: Any, fulfillment_id: int) -> FulfillmentOrder | None:
    return fulfillment_scope(user).filter(pk=fulfillment_id).first()


def fulfillment_lines(fulfillment: FulfillmentOrder) -> list[FulfillmentOrderLine]:
    """The lines of a fulfillment order the caller already found through the user's scope."""
    return list(
        FulfillmentOrderLine.objects.filter(fulfillment_id=fulfillment.pk)
        .select_related("order_line")
        .order_by("order_line__line_number", "id")
    )


def shipments_of(fulfillment: FulfillmentOrder) -> list[Shipment]:
    """Parcels of an in-scope fulfillment order (without loading the label bytes)."""
    return list(
        Shipment.objects.filter(fulfillment_id=fulfillment.pk).defer("label_pdf").order_by("id")
    )


def label_for_user(user: Any, fulfillment_id: int, shipment_id: int) -> Shipment | None:
    """A shipment's label of one of the user's stores, if it has one."""
    return (
        Shipment.objects.filter(
            pk=shipment_id,
            fulfillment_id=fulfillment_id,
            fulfillment__in=fulfillment_scope(user),
            label_pdf__isnull=False,
        )
        .select_related("fulfillment")
        .first()
    )


# --- the queue ---------------------------------------------------------------------------------


@dataclass
class QueueGroup:
    key: str
    title: str
    empty: str
    items: list[FulfillmentOrder] = field(default_factory=list)


@dataclass
class StoreQueue:
    store: Node
    groups: list[QueueGroup]

    @property
    def total(self) -> int:
        return sum(len(group.items) for group in self.groups)


def _group_key(fo: FulfillmentOrder) -> str:
    if fo.status in TO_PICK_STATUSES:
        return "to_pick"
    if fo.status == S.PACKED:
        return "packed_pickup" if fo.is_pickup else "packed_ship"
    return "ready"


def queue_for_user(user: Any) -> list[StoreQueue]:
    """For each of the user's stores, its open fulfillment orders in groups, oldest first:
    to pick, packed (mark ready / ship), ready for pickup (customers on their way)."""
    stores = list(stores_of(user))
    queues = {
        store.pk: StoreQueue(
            store=store,
            groups=[
                QueueGroup("to_pick", "To pick", "Nothing to pick right now."),
                QueueGroup("packed_pickup", "Packed — mark ready", "Nothing waiting for a shelf."),
                QueueGroup("packed_ship", "Packed — ship", "No parcels to ship."),
                QueueGroup("ready", "Ready for pickup", "No customers expected."),
            ],
        )
        for store in stores
    }
    for fo in fulfillments_for_user(user):
        queue = queues.get(fo.node_id)
        if queue is None:
            continue
        key = _group_key(fo)
        next(group for group in queue.groups if group.key == key).items.append(fo)
    for queue in queues.values():
        queue.groups = [g for g in queue.groups if g.items or _always_shown(g.key, queue.store)]
    return list(queues.values())


def _always_shown(key: str, store: Node) -> bool:
    """Empty groups a store still shows: what it can do. Packed pickups are shown only when
    there are some (they wait a moment, between packing and the shelf)."""
    return {
        "to_pick": True,
        "packed_pickup": False,
        "packed_ship": store.can_ship_from_store,
        "ready": store.can_pickup or store.can_curbside,
    }[key]
