"""The ERP connector's facts that are work for a person (erp/events.py).

`erp.document_dead` opens the order's integration_failed case: an invoice or a credit memo the
ERP never took (a person fixes the cause and sends it again from the ERP documents page).
"""

from typing import Any

from erp.events import ERP_DOCUMENT_DEAD
from oms.events.handlers import actor_of, on_event
from oms.events.models import Event
from ops.services.cases import raise_exception_case


@on_event(ERP_DOCUMENT_DEAD)
def document_dead(event: Event, document: Any) -> None:
    payload = event.payload
    raise_exception_case(
        kind="integration_failed",
        order=document.order,
        summary=f"{payload['kind'].replace('_', ' ')} {payload['document']} to the ERP failed "
        f"{payload['attempts']} times: {payload['error'][:200]}",
        details={
            "erp_document": payload["document"],
            "status_code": payload["status_code"],
            "error": payload["error"],
        },
        actor=actor_of(event),
    )
