"""Demo returns for `make run`: a few store pickups that were collected, then brought back, so
the admin's Returns list shows a return in every state (requested, authorized, in transit,
received, inspected with a declined refund, closed with a refund, rejected, cancelled with its
even exchange), an even exchange with its replacement order, an advance exchange waiting for
its return, another back in time (its replacement settled at zero), and a goodwill refund.
Everything goes through the services, as the store screens and the API would. Placed once: a
second seed leaves them alone."""

from collections.abc import Callable
from decimal import Decimal

from django.utils import timezone

from fulfillment.models import FulfillmentOrder
from fulfillment.services.feedback import (
    hand_over,
    mark_ready_for_pickup,
    pack_fulfillment,
    start_picking,
)
from fulfillment.services.fulfillment_orders import release_fulfillment
from fulfillment.services.orchestration import orchestrate_order
from fulfillment.services.payment_capture import capture_shipped_payment
from inventory.models import Node, NodeKind, Product, StockLevel
from oms.core.actors import Actor
from orders.models import Channel, Order
from orders.payments import script_simulated_payment
from orders.services.capture import LineInput, OrderInput, capture_order
from returns.models import Return, ReturnPolicy
from returns.policy import RequestedLine, create_return_policy
from returns.services.receipt import inspect_return, receive_return
from returns.services.refunds import appease, refund_return
from returns.services.requests import (
    ReturnRequest,
    cancel_return,
    mark_return_in_transit,
    reject_return,
    request_return,
)

PREFIX = "RET-DEMO-"  # not "DEMO-": the demo orders count those
ACTOR = Actor.system("seed_demo")
STORE = "store-nyc-herald-square"
CUSTOMERS = ("Ada Lovelace", "Grace Hopper", "Alan Turing", "Barbara Liskov", "Radia Perlman")


def _collected_order(channel: Channel, store: Node, index: int, sku: str) -> Order:
    """A pickup order at the store, picked, packed and handed over to the customer."""
    name = CUSTOMERS[index % len(CUSTOMERS)]
    order = capture_order(
        channel=channel,
        data=OrderInput(
            external_id=f"{PREFIX}{index:02d}",
            placed_at=timezone.now(),
            currency="USD",
            customer_name=name,
            customer_email=f"{name.split()[0].lower()}.returns@example.com",
            delivery_method="pickup",
            pickup_node_code=store.code,
            lines=[LineInput(sku=sku, quantity=1, unit_price=Decimal("24.50"))],
            payment_status="authorized",
            payment_method="card",
            payment_reference=f"auth_demo_ret_{index:02d}",
        ),
        actor=ACTOR,
    )
    orchestrate_order(order_id=order.pk)
    for fo in FulfillmentOrder.objects.filter(order=order, node=store).order_by("id"):
        release_fulfillment(fulfillment_id=fo.pk)
        start_picking(fulfillment_id=fo.pk, actor=ACTOR)
        pack_fulfillment(fulfillment_id=fo.pk, actor=ACTOR)
        mark_ready_for_pickup(fulfillment_id=fo.pk, actor=ACTOR)
        code = FulfillmentOrder.objects.values_list("pickup_code", flat=True).get(pk=fo.pk)
        hand_over(fulfillment_id=fo.pk, pickup_code=code, actor=ACTOR)
    capture_shipped_payment(order_id=order.pk)  # on commit otherwise: after the whole seed
    return order


def _open(order: Order, reason: str, *, authorize: bool = True, exchange: str = "") -> Return:
    return request_return(
        order_id=order.pk,
        request=ReturnRequest(
            lines=[RequestedLine(1, 1, reason, "opened")],
            source="admin",
            exchange_kind=exchange,
            return_node_code=STORE,
            authorize=authorize,
        ),
        actor=ACTOR,
    )


def _received(order: Order, store: Node, reason: str, **kw: object) -> Return:
    rma = _open(order, reason, **kw)  # type: ignore[arg-type]  # authorize/exchange flags
    receive_return(return_id=rma.pk, node_id=store.pk, actor=ACTOR)
    return rma


def ensure_default_policy() -> None:
    """The default return policy (the migration makes it; a flushed database has none)."""
    if not ReturnPolicy.objects.filter(channel__isnull=True).exists():
        create_return_policy(
            channel=None,
            terms={
                "appeasement_limits": {
                    "customer_service": "25.00",
                    "finance": "250.00",
                    "ops_admin": "250.00",
                }
            },
            actor=ACTOR,
        )


def place_demo_returns() -> int:
    """Place the demo returns unless they exist. Returns how many orders were placed now."""
    ensure_default_policy()
    if Order.objects.filter(external_id__startswith=PREFIX).exists():
        return 0
    store = Node.objects.filter(code=STORE, kind=NodeKind.STORE).first()
    channel = Channel.objects.filter(code="web").first()
    if store is None or channel is None:
        return 0
    stocked = list(
        StockLevel.objects.filter(node=store, available__gte=15)  # 12 orders, 3 replacements
        .order_by("product__sku")
        .values_list("product_id", flat=True)[:1]
    )
    if not stocked:
        return 0
    sku = Product.objects.get(pk=stocked[0]).sku

    def requested(o: Order) -> object:
        return _open(o, "size_fit", authorize=False)

    def authorized(o: Order) -> object:
        return _open(o, "changed_mind")

    def in_transit(o: Order) -> object:
        return mark_return_in_transit(return_id=_open(o, "no_longer_needed").pk, actor=ACTOR)

    def received(o: Order) -> object:
        return _received(o, store, "not_as_described")

    def refund_declined(o: Order) -> object:
        # The provider declines: the return stays inspected and a payment case opens.
        # Twice: the inspection's own refund task (on commit) is declined again.
        script_simulated_payment(order_number=o.number, kind="refund", outcome="decline", times=2)
        rma = _received(o, store, "changed_mind")
        inspect_return(return_id=rma.pk, dispositions={1: {"damaged": 1}}, actor=ACTOR)
        return refund_return(return_id=rma.pk, actor=ACTOR)

    def refunded(o: Order) -> object:
        rma = _received(o, store, "size_fit")
        inspect_return(return_id=rma.pk, dispositions={1: {"restock": 1}}, actor=ACTOR)
        return refund_return(return_id=rma.pk, actor=ACTOR)

    def rejected(o: Order) -> object:
        rma = _open(o, "other", authorize=False)
        return reject_return(return_id=rma.pk, reason="worn and washed", actor=ACTOR)

    def cancelled(o: Order) -> object:
        # An even exchange called off with its return: exchange.cancelled follows return.cancelled.
        rma = _open(o, "size_fit", exchange="even")
        return cancel_return(return_id=rma.pk, reason="kept it after all", actor=ACTOR)

    def even_exchange(o: Order) -> object:
        rma = _received(o, store, "size_fit", exchange="even")
        return inspect_return(return_id=rma.pk, dispositions={1: {"restock": 1}}, actor=ACTOR)

    def advance_exchange(o: Order) -> object:
        return _open(o, "defective", exchange="advance")

    def advance_exchange_back(o: Order) -> object:
        # Back in time: the replacement's payment settles at zero (order.payment_settled).
        rma = _received(o, store, "defective", exchange="advance")
        return inspect_return(return_id=rma.pk, dispositions={1: {"restock": 1}}, actor=ACTOR)

    def goodwill(o: Order) -> object:
        return appease(
            order_id=o.pk,
            amount=Decimal("10.00"),
            reason_code="late_delivery",
            note="demo: collected two days late",
            actor=ACTOR,
            roles=["customer_service"],
            idempotency_key=f"demo-appease-{o.number}",
        )

    scenes: list[Callable[[Order], object]] = [
        requested,
        authorized,
        in_transit,
        received,
        refund_declined,
        refunded,
        rejected,
        cancelled,
        even_exchange,
        advance_exchange,
        goodwill,
        advance_exchange_back,
    ]
    for index, scene in enumerate(scenes, start=1):
        scene(_collected_order(channel, store, index, sku))
    return len(scenes)
