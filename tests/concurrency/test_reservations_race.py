"""64 concurrent buyers for 10 units across two nodes never oversell (real PostgreSQL, real
threads, each with its own database connection), and the same harness catches a
read-modify-write reservation overselling, so the test is known to be able to fail."""

import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection, transaction

from inventory.models import (
    MovementReason,
    Node,
    Product,
    Reservation,
    ReservationStatus,
    StockLevel,
)
from inventory.reservations import ReservationRequest, reserve
from inventory.selectors import find_ledger_mismatches
from oms.core.actors import Actor
from tests.factories.inventory import (
    InventoryMovementFactory,
    NodeFactory,
    OrderLineFactory,
    ProductFactory,
    stocked,
)

pytestmark = pytest.mark.django_db(transaction=True)

BUYERS = 64
ROUNDS = 10
UNITS_PER_NODE = 5
ACTOR = Actor.system("buyer")


@pytest.fixture
def shop() -> tuple[list[Node], list[int]]:
    nodes = [NodeFactory(code="dc-east"), NodeFactory(code="dc-west")]
    line_ids = [OrderLineFactory().pk for _ in range(BUYERS)]
    return nodes, line_ids


def stock_a_product(nodes: list[Node], round_number: int) -> Product:
    product = ProductFactory(sku=f"HOT-{round_number}")
    for node in nodes:
        stocked(node, product, on_hand=UNITS_PER_NODE)
    return product


def race(buy: Callable[[int], bool]) -> tuple[list[bool], list[BaseException]]:
    """Run `buy(i)` for every buyer at once; each thread uses (and closes) its own connection."""
    barrier = threading.Barrier(BUYERS)
    bought: list[bool] = [False] * BUYERS
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            barrier.wait()
            bought[i] = buy(i)
        except BaseException as exc:  # reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(BUYERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return bought, errors


def preferred_order(nodes: list[Node], buyer: int) -> list[Node]:
    """Half the buyers try east first, half west: both rows are contended from both sides."""
    return nodes if buyer % 2 == 0 else nodes[::-1]


def outcome(product: Product, bought: list[bool]) -> dict[str, object]:
    levels = StockLevel.objects.filter(product=product)
    return {
        "told_yes": sum(bought),
        "reserved": sum(levels.values_list("reserved", flat=True)),
        "lowest_available": min(levels.values_list("available", flat=True)),
        "ledger_mismatches": len(find_ledger_mismatches(product_ids=[product.pk])),
    }


def test_64_buyers_for_10_units_reserve_exactly_10_in_every_round(shop):
    nodes, line_ids = shop
    rounds = []
    for round_number in range(ROUNDS):
        # given
        product = stock_a_product(nodes, round_number)

        def buy(i: int, product: Product = product) -> bool:
            with transaction.atomic():
                for node in preferred_order(nodes, i):
                    [reservation] = reserve(
                        requests=[ReservationRequest(node.pk, product.pk, 1, line_ids[i])],
                        actor=ACTOR,
                        reference_id=f"BUYER-{i}",
                    )
                    if reservation is not None:
                        return True
            return False

        # when
        bought, errors = race(buy)

        # then (collected, asserted for all rounds below)
        rounds.append(
            {
                **outcome(product, bought),
                "errors": errors,
                "active_reservations": Reservation.objects.filter(
                    product=product, status=ReservationStatus.ACTIVE
                ).count(),
            }
        )

    assert (
        rounds
        == [
            {
                "told_yes": 10,
                "reserved": 10,
                "lowest_available": 0,
                "ledger_mismatches": 0,
                "errors": [],
                "active_reservations": 10,
            }
        ]
        * ROUNDS
    )


def test_the_harness_catches_a_read_modify_write_reservation_overselling(shop):
    """The broken variant reads `available` in Python, checks it, then writes back
    reserved = read_value + 1: concurrent buyers all see the same free units."""
    nodes, _ = shop
    rounds = []
    for round_number in range(ROUNDS):
        # given
        product = stock_a_product(nodes, round_number)

        def broken_buy(i: int, product: Product = product) -> bool:
            for node in preferred_order(nodes, i):
                with transaction.atomic():
                    level = StockLevel.objects.get(node=node, product=product)
                    if level.available >= 1:
                        time.sleep(0.005)  # widen the window between read and write
                        StockLevel.objects.filter(pk=level.pk).update(reserved=level.reserved + 1)
                        InventoryMovementFactory(
                            node=node,
                            product=product,
                            delta_reserved=1,
                            reason=MovementReason.RESERVATION,
                        )
                        return True
            return False

        # when
        bought, errors = race(broken_buy)

        # then
        rounds.append({**outcome(product, bought), "errors": errors})

    assert all(r["errors"] == [] for r in rounds)
    oversold = [r for r in rounds if r["told_yes"] > 10 or r["ledger_mismatches"] > 0]
    assert len(oversold) >= 1, rounds
