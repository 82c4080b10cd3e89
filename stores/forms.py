"""Forms of the store screens. Every action form carries `token`, a uuid4 generated when the
form is rendered: it becomes the feedback message id, so submitting the same rendered form twice
(a double tap, a resubmitted POST) does the work once."""

import uuid
from collections.abc import Sequence
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from fulfillment.models import FulfillmentOrder, FulfillmentOrderLine
from stores.selectors import is_store_associate


class StoreLoginForm(AuthenticationForm):
    """Django's login form that also refuses accounts without store access, in words."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "no_store_access": "This account cannot use the store screens. Ask your store lead "
        "or operations to add you to your store.",
    }

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if not is_store_associate(user):
            raise ValidationError(self.error_messages["no_store_access"], code="no_store_access")


class ActionForm(forms.Form):
    """One button on the pick list. `name` is its key in the page; `payload()` is what the
    inbound message log keeps about it."""

    name = ""
    token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(
        self,
        data: Any = None,
        *,
        fulfillment: FulfillmentOrder,
        lines: Sequence[FulfillmentOrderLine] = (),
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("initial", {}).setdefault("token", uuid.uuid4())
        super().__init__(data, **kwargs)
        self.fulfillment = fulfillment
        self.lines = list(lines)

    def payload(self) -> dict[str, Any]:
        return {"action": self.name, "fulfillment": self.fulfillment.number}


class StartPickingForm(ActionForm):
    name = "start"


class MarkReadyForm(ActionForm):
    name = "ready"


class ShipForm(ActionForm):
    name = "ship"


SHORT_REASONS = [
    ("", "All found"),
    ("damaged", "Damaged"),
    ("not_found", "Not found"),
    ("other", "Other"),
]


class ConfirmPickedForm(ActionForm):
    """A number per line (defaults to the quantity asked) and, if anything is short, why."""

    name = "pack"
    short_reason = forms.ChoiceField(
        choices=SHORT_REASONS, required=False, label="If something is missing, why?"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for line in self.lines:
            self.fields[self.field_name(line)] = forms.IntegerField(
                min_value=0,
                max_value=line.quantity,
                initial=line.quantity,
                label=f"Picked of {line.quantity}",
                widget=forms.NumberInput(
                    attrs={"inputmode": "numeric", "class": "qty-input", "min": 0}
                ),
                error_messages={
                    "max_value": f"At most {line.quantity}: that is all the order asks for.",
                    "min_value": "Cannot be below 0.",
                    "required": "How many did you find?",
                },
            )

    @staticmethod
    def field_name(line: FulfillmentOrderLine) -> str:
        return f"picked_{line.pk}"

    def line_fields(self) -> list[tuple[FulfillmentOrderLine, forms.BoundField]]:
        return [(line, self[self.field_name(line)]) for line in self.lines]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        short = any(
            cleaned.get(self.field_name(line)) is not None
            and cleaned[self.field_name(line)] < line.quantity
            for line in self.lines
        )
        found = [cleaned.get(self.field_name(line)) for line in self.lines]
        if self.lines and all(qty == 0 for qty in found):
            raise ValidationError(
                "Nothing found? Reject the order instead (below), so it goes to another location.",
                code="nothing_picked",
            )
        if short and not cleaned.get("short_reason"):
            self.add_error("short_reason", "Some units are missing: say why.")
        return cleaned

    def picked(self) -> dict[int, int]:
        return {line.pk: self.cleaned_data[self.field_name(line)] for line in self.lines}

    def short_units(self) -> int:
        picked = self.picked()
        return sum(line.quantity - picked[line.pk] for line in self.lines)

    def short_reason_text(self) -> str:
        if not self.short_units():
            return ""
        return dict(SHORT_REASONS)[self.cleaned_data["short_reason"]].lower()

    def payload(self) -> dict[str, Any]:
        return {
            **super().payload(),
            "picked": {str(pk): qty for pk, qty in sorted(self.picked().items())},
            "short_reason": self.short_reason_text(),
        }


class HandOverForm(ActionForm):
    name = "hand_over"
    pickup_code = forms.CharField(
        max_length=8,
        label="Customer's pickup code",
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "autocapitalize": "off",
                "placeholder": "8-digit code",
                "class": "code-input",
            }
        ),
        error_messages={"required": "Type the code the customer shows you."},
    )
    # The code itself is not kept in the inbound message log: payload() leaves it out.


class UnlockPickupForm(ActionForm):
    """A store lead unlocks a hand-over locked after too many wrong pickup codes."""

    name = "unlock_pickup"
    note = forms.CharField(
        max_length=200,
        label="How did you check the customer?",
        widget=forms.TextInput(attrs={"placeholder": "e.g. photo ID matches the order name"}),
        error_messages={"required": "Say how you checked it is the customer."},
    )

    def payload(self) -> dict[str, Any]:
        return {**super().payload(), "note": self.cleaned_data["note"]}


REJECT_REASONS = [
    ("", "Choose a reason…"),
    ("not_found", "Items not found"),
    ("damaged", "Items damaged"),
    ("no_staff", "Not enough staff"),
    ("closing", "Store closed or closing"),
    ("other", "Other"),
]


class RejectForm(ActionForm):
    name = "reject"
    reason = forms.ChoiceField(
        choices=REJECT_REASONS,
        label="Why can't the store do it?",
        error_messages={"required": "Choose why the store cannot do it."},
    )
    note = forms.CharField(
        max_length=200,
        required=False,
        label="Details",
        widget=forms.TextInput(attrs={"placeholder": "Optional (required for “Other”)"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("reason") == "other" and not cleaned.get("note", "").strip():
            self.add_error("note", "Say what the problem is.")
        return cleaned

    def reason_text(self) -> str:
        label = dict(REJECT_REASONS)[self.cleaned_data["reason"]]
        note = self.cleaned_data.get("note", "").strip()
        return f"{label}: {note}" if note else label

    def payload(self) -> dict[str, Any]:
        return {**super().payload(), "reason": self.reason_text()}
