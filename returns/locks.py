"""Row locks for returns. Lock order: the order (the stream's root, orders/locks.py) → its
return → the return's refunds / exchange → (inventory) node → stock levels. Every helper
refuses to run outside a transaction."""

from oms.core.errors import NotFound
from oms.core.transactions import require_atomic
from returns.models import Exchange, Refund, Return


def lock_return(return_id: int) -> Return:
    require_atomic("lock_return()")
    try:
        return Return.objects.select_for_update(of=("self",)).get(pk=return_id)
    except Return.DoesNotExist:
        raise NotFound(f"Return {return_id} does not exist.", code="return_not_found") from None


def lock_refund(refund_id: int) -> Refund:
    require_atomic("lock_refund()")
    try:
        return Refund.objects.select_for_update(of=("self",)).get(pk=refund_id)
    except Refund.DoesNotExist:
        raise NotFound(f"Refund {refund_id} does not exist.", code="refund_not_found") from None


def lock_exchange(exchange_id: int) -> Exchange:
    require_atomic("lock_exchange()")
    return Exchange.objects.select_for_update(of=("self",)).get(pk=exchange_id)
