"""The returns desk of the store screens (the port in oms/core/returns_desk.py): reads through
returns/selectors.py scoped to the associate's stores, writes through the receipt services."""

from oms.core.actors import Actor
from oms.core.errors import DomainError, NotFound
from oms.core.returns_desk import DeskLine, DeskReturn
from returns.models import RECEIVABLE_STATUSES, Return, ReturnStatus
from returns.selectors import find_return_for_nodes, returns_expected_at, returns_received_at
from returns.services.receipt import ReceiptMessage, inspect_return, receive_return


def _desk(rma: Return) -> DeskReturn:
    return DeskReturn(
        id=rma.pk,
        number=rma.number,
        order_number=rma.order.number,
        customer_name=rma.order.customer_name,
        status=rma.status,
        status_label=rma.get_status_display(),
        expected_node=rma.return_node.name if rma.return_node else "",
        received_node=rma.received_node.name if rma.received_node else "",
        received_node_id=rma.received_node_id,
        exchange=rma.exchange_kind,
        created_at=rma.created_at,
        received_at=rma.received_at,
        lines=tuple(
            DeskLine(
                line_number=line.order_line.line_number,
                sku=line.order_line.sku,
                name=line.order_line.name,
                quantity=line.quantity,
                reason=line.get_reason_code_display(),
                condition=line.get_condition_reported_display(),
                received=line.received_quantity,
                reported_damaged=line.reported_damaged_quantity,
                dispositions={k: v for k, v in line.disposition_counts().items() if v},
            )
            for line in rma.lines.all()
        ),
        receivable=rma.status in RECEIVABLE_STATUSES,
        inspectable=rma.status == ReturnStatus.RECEIVED,
    )


class StoreReturnsDesk:
    def expected(self, node_ids: list[int]) -> list[DeskReturn]:
        return [_desk(rma) for rma in returns_expected_at(node_ids)[:50]]

    def received(self, node_ids: list[int], limit: int) -> list[DeskReturn]:
        return [_desk(rma) for rma in returns_received_at(node_ids)[:limit]]

    def find(self, number: str, node_ids: list[int]) -> DeskReturn | None:
        rma = find_return_for_nodes(number, node_ids)
        return None if rma is None else _desk(rma)

    def _scoped(self, number: str, node_ids: list[int]) -> Return:
        rma = find_return_for_nodes(number, node_ids)
        if rma is None:
            raise NotFound(f"No return {number} for your stores.", code="return_not_found")
        return rma

    def receive(
        self,
        *,
        number: str,
        node_id: int,
        node_ids: list[int],
        received: dict[int, int],
        actor: Actor,
        source: str,
        message_id: str,
    ) -> DeskReturn:
        if node_id not in node_ids:
            raise NotFound("Not one of your stores.", code="node_not_found")
        rma = self._scoped(number, node_ids)
        receive_return(
            return_id=rma.pk,
            node_id=node_id,
            received=received,
            actor=actor,
            message=ReceiptMessage(source=source, message_id=message_id),
        )
        return _desk(self._scoped(number, node_ids))

    def inspect(
        self,
        *,
        number: str,
        node_ids: list[int],
        dispositions: dict[int, dict[str, int]],
        actor: Actor,
        note: str,
        source: str = "",
        message_id: str = "",
    ) -> DeskReturn:
        rma = self._scoped(number, node_ids)
        if rma.received_node_id not in node_ids:
            raise DomainError(
                code="return_not_received_here",
                detail=f"Return {rma.number} was not received at your store.",
            )
        inspect_return(
            return_id=rma.pk,
            dispositions=dispositions,
            actor=actor,
            note=note,
            message=ReceiptMessage(source=source, message_id=message_id) if message_id else None,
        )
        return _desk(self._scoped(number, node_ids))
