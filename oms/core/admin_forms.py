"""Admin forms that speak in words: a database constraint's failure reads as what to fix, not
"Constraint “node_coordinates_valid” is violated", and a time zone is picked from the IANA
list, not typed.

`HumanConstraintForm` rewrites the message of every constraint named in CONSTRAINT_MESSAGES
when a form's model validation fails on it (ModelForm._post_clean runs the model's full_clean,
constraints included, and reports through _update_errors). The messages live here rather than
as `violation_error_message` on the models, so the wording can change without a migration.
"""

from functools import cache
from typing import Any
from zoneinfo import available_timezones

from django import forms
from django.core.exceptions import ValidationError

CONSTRAINT_MESSAGES = {
    "node_coordinates_valid": "Latitude must be between -90 and 90 and longitude between "
    "-180 and 180.",
    "product_sku_not_empty": "A product needs a SKU.",
    "stock_node_product_unique": "This node already has a stock level for this product.",
    "stock_on_hand_gte_0": "On hand cannot be negative.",
    "stock_reserved_gte_0": "Reserved cannot be negative.",
    "stock_safety_stock_gte_0": "Safety stock cannot be negative.",
    "order_channel_external_id_unique": "This channel already has an order with this external id.",
    "order_ship_needs_address": "An order shipped to an address needs the address.",
    "order_pickup_needs_node": "A pickup order needs the store it is picked up at.",
    "orderline_quantity_gt_0": "A line's quantity must be at least 1.",
    "hold_one_active_per_kind": "The order already has an active hold of this kind.",
    "apiclient_exactly_one_scope": "An API client belongs to exactly one channel or one node.",
    "ruleset_key_version_unique": "This rule set already has a version with this number.",
    "ruleset_one_active_per_channel": "Another rule set is already active for this channel.",
    "shipment_carrier_tracking_unique": "This carrier already has a shipment with this "
    "tracking number.",
    "exceptioncase_one_open_per_subject": "An open case of this kind already exists for this "
    "subject.",
}


def human_message(message: str) -> str:
    for name, text in CONSTRAINT_MESSAGES.items():
        if name in message:
            return text
    return message


def humanize(error: ValidationError) -> ValidationError:
    if hasattr(error, "error_dict"):
        return ValidationError(
            {
                field: [human_message(str(m)) for e in errors for m in e.messages]
                for field, errors in error.error_dict.items()
            }
        )
    return ValidationError([human_message(str(m)) for m in error.messages])


class HumanConstraintForm(forms.ModelForm):
    def _update_errors(self, errors: ValidationError) -> None:
        """Every model validation error (full_clean runs the constraints) passes here."""
        super()._update_errors(humanize(errors))  # type: ignore[misc]  # not in django-stubs


@cache
def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(available_timezones())]


class TimeZoneField(forms.ChoiceField):
    """An IANA time zone, chosen from the list (an invalid zone cannot be typed)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", "The node's local time zone (IANA), e.g. America/Chicago.")
        super().__init__(choices=timezone_choices, **kwargs)
