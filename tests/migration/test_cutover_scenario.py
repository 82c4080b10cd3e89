"""A whole phased cutover of one channel on the corpus-shaped example export (issue 15):
legacy → import history → shadow for a simulated week (planted decisions, exact agreement) →
canary at 10 % → widened to 100 % → rollback with 5 in-flight orders (3 handed back, 2
finishing in oms), with no reservation leaked and no order owned by both systems."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from fulfillment.estimates import transit_days
from fulfillment.models import FulfillmentOrder
from fulfillment.services.handback import hand_back_order
from fulfillment.services.orchestration import orchestrate_order
from inventory.models import InventoryMovement, Node, Reservation, ReservationStatus, StockLevel
from inventory.selectors import find_ledger_mismatches
from migration.mapping.schema import load_mapping
from migration.models import CutoverPlan, LegacyDecision, LegacyHandoff
from migration.selectors import order_diffs, shadow_summary
from migration.services.cutover import in_canary, owner_for
from migration.services.runs import run_import
from oms.core.actors import Actor
from oms.events.models import Event
from orders.models import Order, OrderLine
from orders.ownership import OwnershipQuery
from tests.conftest import bearer_client
from tests.factories.inventory import PUSHED
from tests.factories.orders import ChannelFactory, issue_api_key
from tests.factories.users import superuser
from tests.migration.conftest import MAPPINGS
from tests.migration.cutover_support import set_mode

pytestmark = pytest.mark.django_db
EXAMPLES = Path(__file__).resolve().parents[2] / "migration" / "examples"
WEEK = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)

# (external id, day of the week, legacy allocations): 7 agree with oms (dc-east, next door),
# 2 went to the Boston store, 1 was split by the legacy system.
PLANTED = [
    ("L-01", 0, [("dc-east", 1)]),
    ("L-02", 0, [("dc-east", 1)]),
    ("L-03", 1, [("store-bos", 1)]),
    ("L-04", 2, [("dc-east", 1)]),
    ("L-05", 3, [("dc-east", 1)]),
    ("L-06", 3, [("dc-east", 1), ("store-bos", 1)]),
    ("L-07", 4, [("dc-east", 1)]),
    ("L-08", 5, [("store-bos", 1)]),
    ("L-09", 6, [("dc-east", 1)]),
    ("L-10", 6, [("dc-east", 1)]),
]


def _order_body(external_id, placed_at, quantity=1):
    return {
        "external_id": external_id,
        "placed_at": placed_at.isoformat(),
        "currency": "USD",
        "customer": {"name": "Ann Lee", "email": "ann@example.com"},
        "delivery": {"method": "ship", "service_level": "standard"},
        "shipping_address": {
            "line1": "12 Elm St",
            "city": "Columbus",
            "region": "OH",
            "postal_code": "43215",
            "country": "US",
        },
        "lines": [{"sku": "TENT-2P", "quantity": quantity, "unit_price": "199.00"}],
    }


def _query(channel, external_id):
    channel.refresh_from_db()  # the approved plan, as capture reads it from the channel row
    return OwnershipQuery(
        channel.pk,
        "web",
        external_id,
        "ship",
        "OH",
        "43215",
        "",
        False,
        cutover_mode=channel.cutover_mode,
        cutover_share=channel.cutover_share,
        cutover_narrowing=channel.cutover_narrowing,
    )


def _reserved_levels():
    return sum(StockLevel.objects.values_list("reserved", flat=True))


def _active_reserved():
    return sum(
        Reservation.objects.filter(status=ReservationStatus.ACTIVE).values_list(
            "quantity", flat=True
        )
    )


def test_phased_cutover_of_one_channel(django_capture_on_commit_callbacks, settings, tmp_path):
    settings.OMS_LEGACY_HANDOFF_DIR = tmp_path
    web = ChannelFactory(code="web", name="Web")
    api = bearer_client(issue_api_key(web, "legacy feed").key)
    alice, bob = superuser("alice"), superuser("bob")

    # -- phase 0: legacy; import the history ------------------------------------------------
    set_mode("web", "legacy", author=alice, approver=bob)
    for name, file in [
        ("generic_nodes_csv", "nodes.csv"),
        ("generic_products_csv", "products.csv"),
        ("generic_stock_csv", "stock.csv"),
        ("generic_orders_csv", "orders.csv"),
    ]:
        with django_capture_on_commit_callbacks(execute=True):
            report = run_import(
                mapping=load_mapping(MAPPINGS / f"{name}.yaml"),
                input_path=EXAMPLES / file,
                dry_run=False,
                actor=Actor.system("test"),
            )
        assert report.refused == 0
    imported = Order.objects.filter(channel=web)
    assert sorted(imported.values_list("owner", "status")) == [
        ("legacy", "created"),  # in flight at the legacy system: mirrored, not reserved
        ("legacy", "created"),
        ("legacy", "created"),  # F-2003, held at the legacy system: mirrored too
        ("oms", "cancelled"),  # history
        ("oms", "shipped"),
        ("oms", "shipped"),
    ]
    assert _reserved_levels() == 0
    assert not LegacyHandoff.objects.exists()  # mirrors never go back to the legacy system
    # The node the legacy system allocated each open order is its legacy decision.
    assert sorted(
        LegacyDecision.objects.values_list("order__external_id", "allocations", "source")
    ) == [
        ("F-2001", [{"node": "dc-east", "sku": "TENT-2P", "quantity": 2}], "generic_orders_csv"),
        ("F-2002", [{"node": "store-bos", "sku": "LAMP-LED", "quantity": 3}], "generic_orders_csv"),
        ("F-2003", [{"node": "dc-east", "sku": "STOVE-1", "quantity": 1}], "generic_orders_csv"),
    ]

    # -- phase 1: shadow for a simulated week -----------------------------------------------
    set_mode("web", "shadow", author=alice, approver=bob)
    for external_id, day, allocations in PLANTED:
        body = _order_body(external_id, WEEK + timedelta(days=day), sum(q for _, q in allocations))
        body["legacy_decision"] = {
            "allocations": [{"node": n, "sku": "TENT-2P", "quantity": q} for n, q in allocations]
        }
        with django_capture_on_commit_callbacks(execute=True):
            response = api.post("/api/v1/cutover/web/legacy-orders/", body, format="json")
        assert response.status_code == 201, response.json()

    diffs = order_diffs(channel_code="web")
    assert [(d.order, d.agrees) for d in diffs] == [
        (Order.objects.get(external_id=e).number, all(n == "dc-east" for n, _ in a) and len(a) == 1)
        for e, _, a in PLANTED
    ]
    assert all(d.oms.nodes == ("dc-east",) for d in diffs)
    bos = next(d for d in diffs if d.legacy.nodes == ("store-bos",))
    assert bos.reason == "oms preferred dc-east (score 9.75) over legacy store-bos (score 20.4459)"
    split = next(d for d in diffs if d.legacy.shipments == 2)
    assert split.reason == "oms ships in 1, legacy in 2"
    [week] = shadow_summary(diffs, by_day=False)
    bos_miles = bos.legacy.miles
    assert (week.compared, week.agreed, week.agreement) == (10, 7, 70.0)
    # Estimated cost (the default rule set: DC 6.00, store 8.50 a shipment, 0.002 a mile) and
    # promise date (standard: shipped 48 h after placement, then ground transit by miles).
    bos_cost = (Decimal("8.5") + Decimal("0.002") * Decimal(str(bos_miles))).quantize(
        Decimal("0.01")
    )
    assert bos.legacy.cost == bos_cost
    assert bos.oms.cost == Decimal("6.00")
    assert bos.oms.promise == bos.day + timedelta(days=2 + 1)  # dc-east is next door: 1 day
    bos_days = 2 + transit_days("standard", bos_miles)
    assert bos.legacy.promise == bos.day + timedelta(days=bos_days)
    assert split.legacy.cost == Decimal("6.00") + bos_cost
    assert split.legacy.promise == bos.legacy.promise - bos.day + split.day  # the later parcel
    assert week.oms == {
        "split_rate": 0.0,
        "backorder_rate": 0.0,
        "avg_miles": 0.0,
        "total_cost": Decimal("60.00"),
        "avg_cost": Decimal("6.00"),
        "avg_promise_days": 3.0,
    }
    legacy_total = 8 * Decimal("6.00") + 3 * bos_cost
    assert week.legacy == {
        "split_rate": 10.0,
        "backorder_rate": 0.0,
        "avg_miles": round((2 * bos_miles + round(bos_miles / 2, 1)) / 10, 1),
        "total_cost": legacy_total,
        "avg_cost": (legacy_total / 10).quantize(Decimal("0.01")),
        "avg_promise_days": round((7 * 3 + 3 * bos_days) / 10, 2),
    }
    assert (week.promise_earlier, week.promise_later, week.currency) == (3, 0, "USD")
    by_day = {row.day.isoformat(): row.agreement for row in shadow_summary(diffs)}
    assert by_day == {
        "2026-11-02": 100.0,
        "2026-11-03": 0.0,
        "2026-11-04": 100.0,
        "2026-11-05": 50.0,
        "2026-11-06": 100.0,
        "2026-11-07": 0.0,
        "2026-11-08": 100.0,
    }
    assert _reserved_levels() == 0  # the shadow reserved nothing

    # -- phase 2: canary at 10 % -------------------------------------------------------------
    set_mode("web", "canary", share="10", author=alice, approver=bob)
    ids = [f"W-{n:05d}" for n in range(10_000)]
    plan = CutoverPlan.objects.get(channel=web, status="active")
    owned = [in_canary(plan.share_percent, plan.narrowing, _query(web, i)) for i in ids]
    assert 800 <= sum(owned) <= 1200  # 10 % ± 2 %
    # The resolver capture calls agrees with the split, order by order (a sample: one query
    # each), and a retried order id lands on the same side.
    sample = ids[:300]
    assert [owner_for(_query(web, i)) for i in sample] == [
        "oms" if o else "legacy" for o in owned[:300]
    ]
    assert [owner_for(_query(web, i)) for i in sample[:50]] == [
        owner_for(_query(web, i)) for i in sample[:50]
    ]

    # -- phase 3: widened to 100 %; five orders in flight ------------------------------------
    set_mode("web", "canary", share="100", author=bob, approver=alice)
    # Work is pushed to the nodes (as to an X12 or HTTP partner): an order stays pending
    # between its routing and its release (a node that pulls is released in routing's own
    # transaction, ADR 0019).
    assert PUSHED.pushes
    Node.objects.update(connector="pushed")
    in_flight = []
    for n in range(5):
        with django_capture_on_commit_callbacks(execute=n >= 3):  # 2 of them are released
            response = api.post(
                "/api/v1/orders/", _order_body(f"N-{n}", WEEK + timedelta(days=8)), format="json"
            )
        assert response.status_code == 201
        order = Order.objects.get(number=response.json()["number"])
        if n < 3:  # routed and reserved, not yet released to the node
            orchestrate_order(order_id=order.pk)
        in_flight.append(order)
    assert [o.owner for o in in_flight] == ["oms"] * 5
    assert _reserved_levels() == _active_reserved() == 5

    # -- phase 4: roll back -------------------------------------------------------------------
    with django_capture_on_commit_callbacks(execute=True):
        set_mode("web", "legacy", author=alice, approver=bob)

    for order in in_flight:
        order.refresh_from_db()
    assert [(o.owner, o.status) for o in in_flight] == [
        ("legacy", "handed_back"),
        ("legacy", "handed_back"),
        ("legacy", "handed_back"),
        ("oms", "released"),
        ("oms", "released"),
    ]
    handed = LegacyHandoff.objects.filter(reason="rolled_back").order_by("order_id")
    assert [(h.order.external_id, h.status) for h in handed] == [
        ("N-0", "sent"),
        ("N-1", "sent"),
        ("N-2", "sent"),
    ]
    assert (tmp_path / f"{in_flight[0].number}.csv").exists()
    assert FulfillmentOrder.objects.filter(order__in=in_flight[:3], status="cancelled").count() == 3
    # No reservation leaked: only the two released orders hold stock, and the ledger agrees.
    assert _reserved_levels() == _active_reserved() == 2
    assert find_ledger_mismatches() == []
    # The handed-back orders' lines say so (one event each); each reservation was released
    # exactly once, and handing back again changes nothing.
    back = in_flight[:3]
    assert set(OrderLine.objects.filter(order__in=back).values_list("status", flat=True)) == {
        "handed_back"
    }
    assert set(
        OrderLine.objects.filter(order__in=in_flight[3:]).values_list("status", flat=True)
    ) == {"released"}
    line_events = Event.objects.filter(type="order.line_handed_back").order_by("id")
    assert [(e.payload["status_before"], e.payload["units_released"]) for e in line_events] == [
        ("allocated", 1)
    ] * 3
    reservations = Reservation.objects.filter(order_line__order__in=back)
    assert set(reservations.values_list("status", flat=True)) == {"released"}
    releases = InventoryMovement.objects.filter(reason="release")
    assert releases.count() == reservations.count() == 3
    for order in back:
        assert (
            hand_back_order(order_id=order.pk, actor=Actor.system("test"), reason="again") is False
        )
    assert InventoryMovement.objects.filter(reason="release").count() == 3
    assert Event.objects.filter(type="order.line_handed_back").count() == 3
    # No order owned by both systems: whatever went to the legacy system is not oms's.
    assert not Order.objects.filter(owner="oms", handoff__isnull=False).exists()

    # A new order now goes to the legacy system.
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/orders/", _order_body("N-9", WEEK), format="json")
    late = Order.objects.get(number=response.json()["number"])
    assert (late.owner, late.handoff.status, late.handoff.reason) == ("legacy", "sent", "not_owned")
    assert _reserved_levels() == 2
    assert Decimal(api.get("/api/v1/cutover/web/").json()["share_percent"]) == Decimal("0")
