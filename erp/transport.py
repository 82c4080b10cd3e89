"""Delivering an ERP document where `OMS_ERP_ENDPOINT` says, in `OMS_ERP_FORMAT`.

    OMS_ERP_ENDPOINT   https://erp.example.com/api/documents   POST each document there
                       file:var/erp/outbox                       drop one file per document
                                                                 (a relative path is under the
                                                                 checkout; for an SFTP pickup)
                       (empty)                                   no ERP: nothing is queued
    OMS_ERP_FORMAT     json (application/json) or x12 (an 810 interchange, application/edi-x12)

HTTP goes through the channels' SSRF-checked client (channels/http.py: one request to the
checked address; `OMS_CHANNELS_ALLOWED_HOSTS` lets a local fake through in development and
tests). Each request carries `Idempotency-Key: <document number>`; a 2xx, or a 409 (the ERP
already has that number), is delivered. 5xx, 408, 425, 429 and network errors are retried;
other 4xx are dead at once (a retry cannot fix them). `OMS_ERP_TOKEN`, when set, goes in
`Authorization: Bearer`. An X12 810 is rendered from the kept JSON with the document's id as the
control number and its creation time as the envelope's, so a resend is byte for byte the same.
"""

import datetime as dt
import json
import os
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

from channels.adapters.base import CallFailed
from channels.http import Client
from erp.models import DocumentFormat, ErpDocument
from integrations.x12 import ItemId, Party, Reference
from integrations.x12.invoice_810 import CREDIT_MEMO, DEBIT_INVOICE, Invoice, InvoiceLine, write_810

X12_MEDIA_TYPE = "application/edi-x12"


@dataclass(frozen=True)
class Delivered:
    target: str
    status_code: int | None
    response: dict[str, Any]


def enabled() -> bool:
    return bool(settings.OMS_ERP_ENDPOINT.strip())


def _x12_text(value: str | None, limit: int) -> str | None:
    """X12 has no escaping: the writer refuses delimiters, so free text drops them."""
    if not value:
        return None
    cleaned = "".join(" " if ch in "*~>^\r\n" else ch for ch in value).strip()
    return cleaned[:limit] or None


def as_810(body: dict[str, Any]) -> Invoice:
    ship_to = body.get("ship_to") or {}
    lines: list[InvoiceLine]
    if body["type"] == "invoice":
        lines = [
            InvoiceLine(
                line_number=str(line["line_number"]),
                quantity=Decimal(line["quantity"]),
                unit="EA",
                unit_price=Decimal(line["unit_price"]),
                item_ids=(ItemId("SK", _x12_text(line["sku"], 48) or "?"),),
                description=_x12_text(line.get("name"), 80),
            )
            for line in body["lines"]
        ]
        references = [Reference("BM", body["shipment"])]
        charges = [("G830", Decimal(body["shipping"]))] if Decimal(body["shipping"]) else []
    else:  # a credit memo: one line for the amount credited (the JSON lists returned units)
        what = (
            "RETURN"
            if body.get("return")
            else "REFUND"
            if body.get("kind") == "platform_refund"
            else "APPEASEMENT"
        )
        lines = [
            InvoiceLine(
                line_number="1",
                quantity=Decimal(1),
                unit="EA",
                unit_price=Decimal(body["total"]),
                item_ids=(ItemId("ZZ", what),),
                description=_x12_text(
                    f"{body.get('reason_code') or what} {body.get('return') or ''}", 80
                ),
            )
        ]
        references = [Reference("IV", number) for number in body.get("credits_invoices", [])]
        if body.get("return"):
            references.append(Reference("RZ", body["return"]))
        charges = []
    return Invoice(
        invoice_number=body["number"],
        invoice_date=dt.date.fromisoformat(body["date"]),
        purchase_order_number=body["order"],
        transaction_type=DEBIT_INVOICE if body["type"] == "invoice" else CREDIT_MEMO,
        currency=body["currency"],
        references=tuple(references),
        parties=(
            Party(
                role="ST",
                name=_x12_text(ship_to.get("name"), 60),
                address_lines=tuple(
                    text for text in (_x12_text(ship_to.get("line1"), 55),) if text
                ),
                city=_x12_text(ship_to.get("city"), 30),
                state=_x12_text(ship_to.get("region"), 2),
                postal_code=_x12_text(ship_to.get("postal_code"), 15),
                country=_x12_text(ship_to.get("country"), 3),
            ),
        ),
        shipped_on=(
            dt.date.fromisoformat(body["shipped_at"][:10]) if body.get("shipped_at") else None
        ),
        lines=tuple(lines),
        total=Decimal(body["total"]),
        tax=Decimal(body["tax"]) if body.get("tax") is not None else None,
        charges=tuple(charges),
    )


def render(document: ErpDocument) -> tuple[bytes, str, str]:
    """(content, media type, file extension) of the document in its format."""
    if document.format == DocumentFormat.X12:
        text = write_810(
            as_810(document.body),
            sender_id=settings.OMS_ERP_X12_SENDER_ID,
            receiver_id=settings.OMS_ERP_X12_RECEIVER_ID,
            control_number=document.pk,
            now=document.created_at.astimezone(dt.UTC),
        )
        return text.encode(), X12_MEDIA_TYPE, "x12"
    content = json.dumps(document.body, cls=DjangoJSONEncoder, indent=2, sort_keys=True)
    return content.encode(), "application/json", "json"


def _directory(endpoint: str) -> Path:
    path = Path(endpoint.removeprefix("file:"))
    return path if path.is_absolute() else Path(settings.BASE_DIR) / path


def deliver(document: ErpDocument) -> Delivered:
    """Send one document; CallFailed (retryable or not) when it did not arrive."""
    endpoint = settings.OMS_ERP_ENDPOINT.strip()
    if not endpoint:
        raise CallFailed("no ERP endpoint is configured (OMS_ERP_ENDPOINT)", retryable=False)
    try:
        content, media_type, extension = render(document)
    except (ValueError, KeyError) as exc:  # X12Error is a ValueError
        raise CallFailed(f"cannot render the document: {exc}", retryable=False) from exc
    if endpoint.startswith("file:"):
        folder = _directory(endpoint)
        name = f"{document.number.replace('/', '-')}.{extension}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=folder, delete=False, suffix=".part") as tmp:
                tmp.write(content)
            os.replace(tmp.name, folder / name)  # the pickup never sees half a file
        except OSError as exc:
            raise CallFailed(f"cannot write {name}: {exc}") from exc
        return Delivered(f"file:{folder / name}", None, {"bytes": len(content)})
    client = Client(base_url=endpoint)
    headers = {"content-type": media_type, "idempotency-key": document.number}
    if settings.OMS_ERP_TOKEN:
        headers["authorization"] = f"Bearer {settings.OMS_ERP_TOKEN}"
    response = client.request("POST", "", url=endpoint, body=content, headers=headers, ok=(409,))
    return Delivered(
        endpoint,
        response.status,
        {"status": response.status, "body": response.json() or response.text[:500]},
    )
