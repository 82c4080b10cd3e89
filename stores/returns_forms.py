"""Forms of the "receive a return" store screens. Each action form carries a `token` made when
it is rendered: it becomes the receipt's message id, so a double tap receives once."""

import uuid
from typing import Any

from django import forms

from oms.core.returns_desk import DeskReturn, inspection_start

DISPOSITIONS = (
    ("restock", "Back on sale"),
    ("damaged", "Damaged"),
    ("vendor_return", "Return to vendor"),
    ("destroy", "Destroy"),
)


class FindReturnForm(forms.Form):
    number = forms.CharField(
        max_length=24,
        label="Return number",
        widget=forms.TextInput(
            attrs={"placeholder": "RMA-XXXX-XXXX", "autocapitalize": "characters"}
        ),
    )


class ReceiveReturnForm(forms.Form):
    """The store it arrived at (when the associate works at several) and the units per line."""

    token = forms.UUIDField(widget=forms.HiddenInput)
    node = forms.TypedChoiceField(coerce=int, label="Received at")

    def __init__(
        self, data: Any = None, *, rma: DeskReturn, stores: list[tuple[int, str]], **kwargs: Any
    ) -> None:
        kwargs.setdefault("initial", {}).setdefault("token", uuid.uuid4())
        super().__init__(data, **kwargs)
        self.rma = rma
        self.fields["node"].choices = stores  # type: ignore[attr-defined]  # TypedChoiceField
        if len(stores) == 1:
            self.fields["node"].widget = forms.HiddenInput()
            self.fields["node"].initial = stores[0][0]
        for line in rma.lines:
            self.fields[f"line_{line.line_number}"] = forms.IntegerField(
                min_value=0,
                max_value=line.quantity,
                initial=line.quantity,
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "qty"}),
            )

    def line_fields(self) -> list[tuple[Any, Any]]:
        return [(line, self[f"line_{line.line_number}"]) for line in self.rma.lines]

    def received(self) -> dict[int, int]:
        return {
            line.line_number: self.cleaned_data[f"line_{line.line_number}"]
            for line in self.rma.lines
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if all(cleaned.get(f"line_{line.line_number}") == 0 for line in self.rma.lines):
            raise forms.ValidationError("Count at least one unit that came back.")
        return cleaned


class InspectReturnForm(forms.Form):
    """A disposition for every unit received: how many of each line go back on sale, and so on."""

    token = forms.UUIDField(widget=forms.HiddenInput)
    note = forms.CharField(max_length=300, required=False, label="Note (optional)")

    def __init__(self, data: Any = None, *, rma: DeskReturn, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("token", uuid.uuid4())
        super().__init__(data, **kwargs)
        self.rma = rma
        for line in rma.lines:
            start = inspection_start(line.received, line.reported_damaged)
            for key, _label in DISPOSITIONS:
                self.fields[f"line_{line.line_number}_{key}"] = forms.IntegerField(
                    min_value=0,
                    max_value=line.received,
                    initial=start.get(key, 0),
                    widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "qty"}),
                )

    def line_fields(self) -> list[tuple[Any, list[tuple[str, Any]]]]:
        return [
            (
                line,
                [(label, self[f"line_{line.line_number}_{key}"]) for key, label in DISPOSITIONS],
            )
            for line in self.rma.lines
            if line.received
        ]

    def dispositions(self) -> dict[int, dict[str, int]]:
        return {
            line.line_number: {
                key: self.cleaned_data[f"line_{line.line_number}_{key}"]
                for key, _label in DISPOSITIONS
                if self.cleaned_data[f"line_{line.line_number}_{key}"]
            }
            for line in self.rma.lines
            if line.received
        }
