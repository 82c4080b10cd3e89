"""Changing an order: the shipping address, the service level, customer service's internal
notes. Each change is one `order.changed` event with who (the actor), why (`reason`) and every
field's before and after.

This module applies changes to the order row. Whether a change may be applied at once is
fulfillment's to say (fulfillment/services/order_changes.py, which the API and the admin call):
before release it applies here and re-routes what is not yet at a node; after release an
address goes to the node as a request and is applied here when the node confirms it
(`confirmed_by`).
"""

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from oms.core.actors import Actor
from oms.core.countries import is_iso_country
from oms.core.errors import FieldError, InvalidInput, TransitionRefused
from oms.events.services import record_event
from orders.events import ORDER_CHANGED
from orders.exceptions import OrderErrorCode
from orders.locks import lock_order
from orders.models import DeliveryMethod, Order, OrderStatus, ServiceLevel

ADDRESS_FIELDS = ("name", "line1", "line2", "city", "region", "postal_code", "country")
CLOSED = (OrderStatus.CANCELLED, OrderStatus.COMPLETED)


@dataclass(frozen=True)
class ChangeRequest:
    """What to change; None leaves a field as it is."""

    address: dict[str, str] | None = None
    service_level: str | None = None
    internal_notes: str | None = None


def shipping_address_of(order: Order) -> dict[str, str]:
    return {name: str(getattr(order, f"ship_{name}")) for name in ADDRESS_FIELDS}


def validate_changes(order: Order, change: ChangeRequest) -> dict[str, dict[str, Any]]:
    """The fields that would change, `{field: {"from", "to"}}`; refuses what cannot apply:
    a closed order (`not_changeable`), an address on a pickup order, an incomplete address,
    an unknown country or service level."""
    if order.status in CLOSED:
        raise TransitionRefused(
            OrderErrorCode.NOT_CHANGEABLE,
            f"Order {order.number} is {order.get_status_display().lower()}; it cannot change.",
            status=order.status,
        )
    changes: dict[str, dict[str, Any]] = {}
    errors: list[FieldError] = []
    if change.address is not None:
        if order.delivery_method != DeliveryMethod.SHIP:
            errors.append(
                FieldError(
                    "not_a_shipping_order",
                    "This order is collected at a store; it has no shipping address.",
                    "shipping_address",
                )
            )
        new = {name: str(change.address.get(name, "") or "").strip() for name in ADDRESS_FIELDS}
        new["country"] = new["country"].upper()
        for required in ("line1", "city", "postal_code", "country"):
            if not new[required]:
                errors.append(
                    FieldError(
                        "required", f"{required} is required.", f"shipping_address.{required}"
                    )
                )
        if new["country"] and not is_iso_country(new["country"]):
            errors.append(
                FieldError(
                    OrderErrorCode.UNKNOWN_COUNTRY,
                    f"{new['country']!r} is not an ISO 3166-1 alpha-2 country code.",
                    "shipping_address.country",
                )
            )
        old = shipping_address_of(order)
        if new != old:
            changes["shipping_address"] = {"from": old, "to": new}
    if change.service_level is not None and change.service_level != order.service_level:
        if change.service_level not in ServiceLevel.values:
            errors.append(FieldError("invalid_choice", "Unknown service level.", "service_level"))
        changes["service_level"] = {"from": order.service_level, "to": change.service_level}
    if change.internal_notes is not None and change.internal_notes != order.internal_notes:
        changes["internal_notes"] = {"from": order.internal_notes, "to": change.internal_notes}
    if errors:
        raise InvalidInput(errors)
    return changes


def apply_order_changes(
    *,
    order_id: int,
    change: ChangeRequest,
    actor: Actor,
    reason: str,
    rerouted: bool = False,
    requested: list[int] | None = None,
    confirmed_by: str = "",
    node_request: int | None = None,
    requested_changes: dict[str, dict[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Apply the changes under the order lock and record `order.changed` (nothing when nothing
    changes and nothing was requested from a node). `requested_changes`: what went to nodes as
    requests instead (applied when they confirm). Returns the changes applied."""
    with transaction.atomic():
        order = lock_order(order_id)
        changes = validate_changes(order, change)
        if not changes and not requested_changes:
            return changes
        fields = ["updated_at"]
        if "shipping_address" in changes:
            for name, value in changes["shipping_address"]["to"].items():
                setattr(order, f"ship_{name}", value)
                fields.append(f"ship_{name}")
            # Routing locates the address by its postal code again.
            order.ship_latitude = order.ship_longitude = None
            fields += ["ship_latitude", "ship_longitude"]
        if "service_level" in changes:
            order.service_level = changes["service_level"]["to"]
            fields.append("service_level")
        if "internal_notes" in changes:
            order.internal_notes = changes["internal_notes"]["to"]
            fields.append("internal_notes")
        order.save(update_fields=fields)
        payload: dict[str, Any] = {
            "changes": changes,
            "reason": reason,
            "rerouted": rerouted,
            "requested": requested or [],
        }
        if requested_changes:
            payload["requested_changes"] = requested_changes
        if confirmed_by:
            payload["confirmed_by"] = confirmed_by
        if node_request is not None:
            payload["node_request"] = node_request
        record_event(
            stream=order.stream, type=ORDER_CHANGED, actor=actor, payload=payload, subject=order
        )
    return changes


def apply_shipping_address(
    *,
    order_id: int,
    address: dict[str, str],
    actor: Actor,
    reason: str,
    confirmed_by: str = "",
    node_request: int | None = None,
) -> dict[str, dict[str, Any]]:
    """A node confirmed an address change it was asked for: apply it."""
    return apply_order_changes(
        order_id=order_id,
        change=ChangeRequest(address=address),
        actor=actor,
        reason=reason,
        confirmed_by=confirmed_by,
        node_request=node_request,
    )
