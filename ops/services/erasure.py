"""erase_customer: one customer's personal data out of every app (docs/security.md,
"Personal data"). The orchestration lives here, the highest layer that needs it; each app's
own service changes its own rows:

- orders (orders/services/erasure.py): the order row, a `Redaction` for its event stream
  (every payload reader masks it) and an `order.personal_data_erased` event;
- fulfillment (fulfillment/services/erasure.py): shipping label PDFs;
- integrations (integrations/erasure.py): inbound messages and kept webhook responses,
  redacted in place (operational logs, not the event history);
- ops itself: exception cases quoting the values (summary, details, resolution note).

One transaction per order. Money and stock are not touched: totals, lines, SKUs, quantities,
reservations and ledger rows. Running it again changes nothing (the erased values are gone,
so there is nothing left to find).
"""

import json
from dataclasses import dataclass, field

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from fulfillment.services.erasure import erase_fulfillment_personal_data
from integrations.erasure import erase_from_logs
from oms.core.actors import Actor
from oms.core.errors import DomainError
from oms.events.models import Event
from oms.events.redaction import scrub
from ops.models import ExceptionCase
from orders.models import Order
from orders.services.erasure import erase_order_personal_data


@dataclass
class OrderErasureReport:
    number: str
    fields: list[str] = field(default_factory=list)
    inbound_messages: int = 0
    webhook_responses: int = 0
    labels: int = 0
    exception_cases: int = 0
    refused: str = ""

    @property
    def changed(self) -> bool:
        return bool(
            self.fields
            or self.inbound_messages
            or self.webhook_responses
            or self.labels
            or self.exception_cases
        )


def orders_of_customer(*, email: str = "", order_number: str = "") -> list[int]:
    if bool(email.strip()) == bool(order_number.strip()):
        raise DomainError(
            code="erase_needs_one_key",
            detail="Give an e-mail address or an order number (one of them).",
            http_status=400,
        )
    if email.strip():
        orders = Order.objects.filter(customer_email__iexact=email.strip())
    else:
        typed = order_number.strip()
        orders = Order.objects.filter(number__in={typed, typed.upper()})
    return list(orders.order_by("id").values_list("id", flat=True))


def erase_order(
    order_id: int, *, actor: Actor, reason: str = "", dry_run: bool = False
) -> OrderErasureReport:
    """Erase one order's personal data everywhere, in one transaction. A dry run writes
    nothing and reports what a real run would change."""
    with transaction.atomic():
        erasure = erase_order_personal_data(
            order_id=order_id, actor=actor, reason=reason, dry_run=dry_run
        )
        report = OrderErasureReport(number=erasure.order_number, fields=erasure.fields)
        fulfillment = erase_fulfillment_personal_data(order_id=order_id, dry_run=dry_run)
        report.labels = fulfillment.labels
        if erasure.values:
            event_ids = Event.objects.filter(stream=erasure.stream).values_list("id", flat=True)
            logs = erase_from_logs(
                subjects=[erasure.order_number, *fulfillment.subjects],
                event_ids=list(event_ids),
                values=erasure.values,
                dry_run=dry_run,
            )
            report.inbound_messages = logs.inbound_messages
            report.webhook_responses = logs.webhook_responses
            report.exception_cases = _erase_from_cases(order_id, erasure.values, dry_run)
    return report


def _erase_from_cases(order_id: int, values: dict[str, str], dry_run: bool) -> int:
    """Exception cases quote what raised them (a hold's reason, a node's error): the erased
    values are replaced in their summary, details and resolution note."""
    changed = 0
    for case in ExceptionCase.objects.select_for_update(of=("self",)).filter(order_id=order_id):
        summary, note = scrub(case.summary, values), scrub(case.resolution_note, values)
        details = json.loads(scrub(json.dumps(case.details, cls=DjangoJSONEncoder), values))
        if (summary, note, details) == (case.summary, case.resolution_note, case.details):
            continue
        changed += 1
        if not dry_run:
            case.summary, case.resolution_note, case.details = summary, note, details
            case.save(update_fields=["summary", "resolution_note", "details", "updated_at"])
    return changed


def erase_customer(
    *,
    actor: Actor,
    email: str = "",
    order_number: str = "",
    reason: str = "",
    dry_run: bool = False,
) -> list[OrderErasureReport]:
    """Erase every matching order (one transaction each); an order still open is reported as
    refused and left as it is."""
    reports = []
    for order_id in orders_of_customer(email=email, order_number=order_number):
        try:
            reports.append(erase_order(order_id, actor=actor, reason=reason, dry_run=dry_run))
        except DomainError as exc:
            number = Order.objects.filter(pk=order_id).values_list("number", flat=True).get()
            reports.append(OrderErasureReport(number=number, refused=exc.detail))
    return reports
