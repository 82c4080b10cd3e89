"""Transaction sets of the X12 inbox that fulfillment does not apply itself.

The inbox (inbox.py) applies 945 shipping advices. A file node also sends sets whose meaning
belongs to a layer above fulfillment: a 944 receipt advice confirms a customer return, which
the `returns` app applies. Fulfillment must not import those layers, so they register a handler
per ST01 when their app is ready:

    register_set_handler("944", apply_receipt_advice)    # returns/x12.py

A handler gets one :class:`InboundSet` (the transaction set, its message id and where it came
from) and returns an :class:`AdviceResult`; it never raises for a set it cannot apply: it keeps
the refusal with :func:`refuse_set` (a failed InboundMessage with a code, retried with backoff)
and returns the `failed` result, so the file goes to `failed/` and the others still apply.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fulfillment.x12.results import AdviceResult, X12ImportError
from integrations.services import AfterFailure, record_failure
from integrations.x12 import TransactionSet
from inventory.models import Node


@dataclass(frozen=True)
class InboundSet:
    ts: TransactionSet
    message_id: str  # <ISA13>-<GS06>-<ST02>
    envelope: dict[str, str]  # sender, receiver, interchange, group, transaction_set
    node: Node | None  # the node the file is from, when the inbox knows it
    fallback_source: str  # x12:<node>, else x12:isa:<ISA06> until the document names the node

    def refuse(
        self,
        kind: str,
        transaction_set: str,
        source: str,
        payload: dict[str, Any],
        number: str,
        code: str,
        detail: str,
    ) -> "AdviceResult":
        """Keep this set as refused (refuse_set) under its message id."""
        return refuse_set(
            kind=kind,
            source=source,
            message_id=self.message_id,
            payload=payload,
            number=number,
            code=code,
            detail=detail,
            transaction_set=transaction_set,
        )

    def result(
        self, transaction_set: str, number: str, outcome: str, code: str = "", detail: str = ""
    ) -> "AdviceResult":
        """This set's line in the file's result."""
        return AdviceResult(
            message_id=self.message_id,
            fulfillment=number,
            outcome=outcome,
            error_code=code,
            error=detail,
            transaction_set=transaction_set,
        )


SetHandler = Callable[[InboundSet], AdviceResult]

_handlers: dict[str, SetHandler] = {}


def register_set_handler(set_id: str, handler: SetHandler) -> None:
    _handlers[set_id] = handler


def set_handler_for(set_id: str) -> SetHandler | None:
    return _handlers.get(set_id)


def refuse_set(
    *,
    kind: str,
    source: str,
    message_id: str,
    payload: dict[str, Any],
    number: str,
    code: str,
    detail: str,
    transaction_set: str,
) -> AdviceResult:
    """Keep a set that cannot be applied as a failed inbound message (retried with backoff:
    nobody else will send it again) and say so in the file's result."""
    record_failure(
        source=source,
        message_id=message_id,
        kind=kind,
        payload=payload,
        error=X12ImportError(str(code), detail),
        subject=number[:100],
        then=AfterFailure.RETRY,
    )
    return AdviceResult(
        message_id=message_id,
        fulfillment=number,
        outcome="failed",
        error_code=str(code),
        error=detail,
        transaction_set=transaction_set,
    )
