"""EasyPost return labels over its REST API (https://docs.easypost.com/docs/shipments):

1. `POST /shipments` with `is_return: true`: EasyPost answers the shipment with its `rates`;
2. the cheapest rate of the requested service level's speed is bought with
   `POST /shipments/{id}/buy` `{"rate": {"id": ...}}`: the answer carries `tracking_code`,
   `selected_rate` and `postage_label.label_url`.

For a return label EasyPost swaps the addresses itself: `to_address` is where the parcel goes
(our node) and `from_address` the customer, as on an outbound shipment; `is_return` makes the
carrier treat it as a return. HTTP Basic with the API key as the user name. Standard library
only (urllib): a timeout or a 5xx is `CarrierUnavailable` (retry), a 4xx `CarrierRequestRefused`
with EasyPost's error code.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from integrations.carriers.base import (
    Address,
    CarrierRequestRefused,
    CarrierUnavailable,
    Label,
    LabelRequest,
)

DEFAULT_BASE_URL = "https://api.easypost.com/v2"
TIMEOUT_SECONDS = 10.0
GRAMS_PER_OUNCE = Decimal("28.349523125")
# Services EasyPost's carriers name for our service levels, fastest last; unknown: by price.
SPEED_HINTS = {
    "standard": ("ground", "groundadvantage", "parcel_select", "first"),
    "express": ("priority", "2day", "express"),
    "same_day": ("express", "nextday", "priority_overnight"),
}


@dataclass(frozen=True)
class ReturnLabel:
    label: Label
    label_url: str
    shipment_id: str


def _address(address: Address) -> dict[str, str]:
    return {
        "name": address.name,
        "street1": address.line1,
        "street2": address.line2,
        "city": address.city,
        "state": address.region,
        "zip": address.postal_code,
        "country": address.country,
        "phone": address.phone,
    }


class EasyPostLabels:
    name = "easypost"

    def __init__(self, *, api_key: str, base_url: str = DEFAULT_BASE_URL) -> None:
        if not api_key:
            raise ValueError("an EasyPost API key is required")
        self._auth = "Basic " + base64.b64encode(f"{api_key}:".encode()).decode()
        self._base = base_url.rstrip("/")

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(  # noqa: S310 - the configured EasyPost URL
            f"{self._base}{path}",
            data=json.dumps(body).encode(),
            method="POST",
            headers={
                "Authorization": self._auth,
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                data = json.loads(response.read().decode())
        except urllib.error.HTTPError as exc:
            if exc.code >= 500:
                raise CarrierUnavailable(
                    "easypost_unavailable", f"EasyPost answered {exc.code}"
                ) from exc
            try:
                error = json.loads(exc.read().decode()).get("error", {})
            except (ValueError, AttributeError):
                error = {}
            raise CarrierRequestRefused(
                str(error.get("code") or f"http_{exc.code}"),
                str(error.get("message") or f"EasyPost refused the request ({exc.code})."),
            ) from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise CarrierUnavailable("timeout", f"EasyPost did not answer: {exc}") from exc
        if not isinstance(data, dict):
            raise CarrierUnavailable("bad_response", "EasyPost answered something unexpected.")
        return data

    def buy_return_label(self, request: LabelRequest) -> ReturnLabel:
        """One return label for the request's first parcel (a return is one parcel)."""
        parcel = request.parcels[0]
        ounces = (Decimal(parcel.weight_grams) / GRAMS_PER_OUNCE).quantize(Decimal("0.1"))
        shipment = self._post(
            "/shipments",
            {
                "shipment": {
                    "is_return": True,
                    "reference": request.reference,
                    # The parcel travels from the customer (ship_from) to our node (ship_to).
                    "from_address": _address(request.ship_from),
                    "to_address": _address(request.ship_to),
                    "parcel": {"weight": float(max(ounces, Decimal("0.1")))},
                    "options": {"label_format": "PDF"},
                }
            },
        )
        rate = _choose_rate(shipment.get("rates") or [], request.service_level)
        bought = self._post(
            f"/shipments/{shipment.get('id', '')}/buy", {"rate": {"id": rate["id"]}}
        )
        selected = bought.get("selected_rate") or rate
        tracking = str(bought.get("tracking_code") or "")
        label_url = str((bought.get("postage_label") or {}).get("label_url") or "")
        if not tracking or not label_url:
            raise CarrierUnavailable("label_missing", "EasyPost bought no label for the shipment.")
        try:
            cost = Decimal(str(selected.get("rate")))
        except (InvalidOperation, ValueError):
            cost = Decimal("0")
        return ReturnLabel(
            label=Label(
                carrier=str(selected.get("carrier") or "EasyPost"),
                service=str(selected.get("service") or ""),
                tracking_number=tracking,
                parcel_index=0,
                label_pdf=b"",
                cost=cost,
                currency=str(selected.get("currency") or "USD").upper(),
                label_format="url",
            ),
            label_url=label_url,
            shipment_id=str(bought.get("id") or shipment.get("id") or ""),
        )


def _choose_rate(rates: list[dict[str, Any]], service_level: str) -> dict[str, Any]:
    """The cheapest rate whose service matches the level's hints; else the cheapest."""
    priced = []
    for rate in rates:
        try:
            priced.append((Decimal(str(rate.get("rate"))), rate))
        except (InvalidOperation, ValueError):
            continue
    if not priced:
        raise CarrierRequestRefused("no_rates", "EasyPost offered no rate for this return.")
    hints = SPEED_HINTS.get(service_level, ())
    matching = [
        (price, rate)
        for price, rate in priced
        if any(h in str(rate.get("service", "")).lower() for h in hints)
    ]
    return min(matching or priced, key=lambda pair: pair[0])[1]
