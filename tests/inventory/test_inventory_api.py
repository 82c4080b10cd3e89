"""The inventory API as a contract: feeds (snapshots, adjustments) and availability."""

import time
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from integrations.models import InboundMessage
from inventory.models import InventoryMovement
from oms.events.models import Event
from orders.models import ApiClient
from orders.services.api_clients import create_api_client
from tests.conftest import bearer_client
from tests.factories.inventory import NodeFactory, ProductFactory, StoreFactory, on_hand, stocked

pytestmark = pytest.mark.django_db


def feed_source() -> str:
    """Feeds are deduplicated per node and client: the source names dc-east's key."""
    return f"api:dc-east:{ApiClient.objects.get(name='wms-east').prefix}"


SNAPSHOTS = "/api/v1/inventory/snapshots/"
ADJUSTMENTS = "/api/v1/inventory/adjustments/"
AVAILABILITY = "/api/v1/availability/"


def snapshot_body(**overrides):
    body = {
        "node": "dc-east",
        "message_id": "wms-0001",
        "as_of": "2026-11-20T06:00:00Z",
        "counts": [{"sku": "tee-1", "on_hand": 12}, {"sku": "MUG-2", "on_hand": 4}],
    }
    body.update(overrides)
    return body


# --- snapshots ---------------------------------------------------------------------------


def test_post_snapshot_applies_the_count(feed_api, levels):
    # when
    response = feed_api.post(SNAPSHOTS, snapshot_body(), format="json")

    # then
    assert response.status_code == 200
    assert response.json() == {
        "status": "applied",
        "kind": "snapshot",
        "node": "dc-east",
        "message_id": "wms-0001",
        "duplicate": False,
        "detail": "Snapshot applied: 1 stock level changed.",
        "changed": [
            {"sku": "TEE-1", "on_hand_before": 10, "on_hand": 12, "reserved": 0, "available": 12}
        ],
        "oversells": [],
    }
    assert on_hand(levels) == {"TEE": 12, "MUG": 4}
    message = InboundMessage.objects.get()
    assert (message.source, message.message_id, message.kind, message.status) == (
        feed_source(),
        "wms-0001",
        "inventory.snapshot",
        "processed",
    )
    event = Event.objects.get(type="inventory.snapshot_applied")
    assert (event.actor_kind, event.actor_label) == ("api_client", "wms-east")


def test_post_snapshot_twice_answers_duplicate(feed_api, levels):
    # given
    feed_api.post(SNAPSHOTS, snapshot_body(), format="json")

    # when
    response = feed_api.post(SNAPSHOTS, snapshot_body(), format="json")

    # then
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["duplicate"]) == ("duplicate", True)
    assert on_hand(levels) == {"TEE": 12, "MUG": 4}
    assert Event.objects.filter(type="inventory.snapshot_applied").count() == 1


def test_post_an_older_snapshot_answers_ignored_stale(feed_api, levels):
    # given
    feed_api.post(SNAPSHOTS, snapshot_body(), format="json")

    # when
    response = feed_api.post(
        SNAPSHOTS,
        snapshot_body(message_id="wms-0000", as_of="2026-11-20T05:00:00Z"),
        format="json",
    )

    # then
    assert response.status_code == 200
    assert response.json()["status"] == "ignored_stale"
    assert response.json()["changed"] == []
    assert on_hand(levels) == {"TEE": 12, "MUG": 4}


def test_post_snapshot_with_unknown_skus_is_400_with_per_line_codes(feed_api, levels):
    # when
    response = feed_api.post(
        SNAPSHOTS,
        snapshot_body(
            counts=[
                {"sku": "TEE-1", "on_hand": 1},
                {"sku": "NOPE", "on_hand": 1},
                {"sku": "tee-1", "on_hand": 2},
            ],
        ),
        format="json",
    )

    # then
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_failed"
    assert [(e["code"], e["field"]) for e in body["errors"]] == [("duplicate_sku", "counts[2].sku")]

    # when: without the duplicate
    response = feed_api.post(
        SNAPSHOTS,
        snapshot_body(
            counts=[{"sku": "TEE-1", "on_hand": 1}, {"sku": "NOPE", "on_hand": -1}],
        ),
        format="json",
    )

    # then
    assert response.status_code == 400
    assert [(e["code"], e["field"]) for e in response.json()["errors"]] == [
        ("unknown_sku", "counts[1].sku"),
        ("negative_count", "counts[1].on_hand"),
    ]
    assert on_hand(levels) == {"TEE": 10, "MUG": 4}
    assert not InboundMessage.objects.filter(status="processed").exists()


def test_post_snapshot_with_a_malformed_body_is_400(feed_api, levels):
    # when
    response = feed_api.post(
        SNAPSHOTS, snapshot_body(as_of="yesterday", counts=[{"sku": "TEE-1"}]), format="json"
    )

    # then
    assert response.status_code == 400
    assert {(e["code"], e["field"]) for e in response.json()["errors"]} == {
        ("invalid", "as_of"),
        ("required", "counts[0].on_hand"),
    }


def test_feeds_need_an_api_key(levels):
    # when
    response = APIClient().post(SNAPSHOTS, snapshot_body(), format="json")

    # then
    assert response.status_code == 401
    assert on_hand(levels) == {"TEE": 10, "MUG": 4}


# --- adjustments -------------------------------------------------------------------------


def test_post_adjustment_applies_the_deltas(feed_api, levels):
    # when
    response = feed_api.post(
        ADJUSTMENTS,
        {
            "node": "dc-east",
            "message_id": "adj-1",
            "lines": [
                {"sku": "TEE-1", "delta": -2, "reason": "damaged"},
                {"sku": "MUG-2", "delta": 1},
            ],
        },
        format="json",
    )

    # then
    assert response.status_code == 200
    assert response.json()["status"] == "applied"
    assert [(c["sku"], c["on_hand"]) for c in response.json()["changed"]] == [
        ("TEE-1", 8),
        ("MUG-2", 5),
    ]
    assert on_hand(levels) == {"TEE": 8, "MUG": 5}
    assert list(
        InventoryMovement.objects.filter(reference_type="feed").values_list("delta_on_hand", "note")
    ) == [(-2, "damaged"), (1, "")]


def test_post_adjustment_that_would_go_negative_is_409_and_applies_nothing(feed_api, levels):
    # when
    response = feed_api.post(
        ADJUSTMENTS,
        {
            "node": "dc-east",
            "message_id": "adj-2",
            "lines": [{"sku": "TEE-1", "delta": -2}, {"sku": "MUG-2", "delta": -5}],
        },
        format="json",
    )

    # then
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "adjustment_refused"
    assert body["errors"] == [
        {
            "code": "on_hand_would_go_negative",
            "field": "lines[1].delta",
            "detail": "MUG-2: on hand would become -1.",
        }
    ]
    assert on_hand(levels) == {"TEE": 10, "MUG": 4}
    assert not Event.objects.filter(type="inventory.adjusted").exists()


def test_post_adjustment_with_unknown_sku_is_400(feed_api, levels):
    # when
    response = feed_api.post(
        ADJUSTMENTS,
        {"node": "dc-east", "message_id": "adj-3", "lines": [{"sku": "NOPE", "delta": 1}]},
        format="json",
    )

    # then
    assert response.status_code == 400
    assert [(e["code"], e["field"]) for e in response.json()["errors"]] == [
        ("unknown_sku", "lines[0].sku")
    ]
    assert not InventoryMovement.objects.filter(reference_type="feed").exists()


# --- who may send feeds (docs/security.md, "Least privilege") -----------------------------


@pytest.mark.parametrize("url", [SNAPSHOTS, ADJUSTMENTS])
def test_a_channel_key_may_not_send_feeds(web_api, levels, url):
    body = snapshot_body() if url == SNAPSHOTS else adjustment_body()

    response = web_api.post(url, body, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "feed_not_allowed"
    assert on_hand(levels) == {"TEE": 10, "MUG": 4}
    assert not InboundMessage.objects.exists()


@pytest.mark.parametrize("url", [SNAPSHOTS, ADJUSTMENTS])
@pytest.mark.parametrize("node", ["dc-west", "dc-nowhere"])
def test_a_node_key_may_send_feeds_only_for_its_own_node(feed_api, levels, url, node):
    west = NodeFactory(code="dc-west")
    stocked(west, ProductFactory(sku="WEST-1"), on_hand=7)
    body = snapshot_body(node=node) if url == SNAPSHOTS else adjustment_body(node=node)

    response = feed_api.post(url, body, format="json")

    assert response.status_code == 403
    assert (response.json()["code"], response.json()["extra"]) == (
        "feed_not_allowed",
        {"node": node},
    )
    assert not InboundMessage.objects.exists()
    assert not InventoryMovement.objects.filter(reference_type="feed").exists()


def test_message_ids_are_deduplicated_per_node_and_client(feed_api, levels):
    """Another key of the same node (a second integration) numbers its own messages: its
    `adj-1` is not the first key's `adj-1`, and neither can claim the other's next id."""
    other = bearer_client(create_api_client(node_code="dc-east", name="wms-east-2").key)

    first = feed_api.post(ADJUSTMENTS, adjustment_body(message_id="adj-1"), format="json")
    second = other.post(ADJUSTMENTS, adjustment_body(message_id="adj-1", delta=2), format="json")

    assert (first.status_code, first.json()["duplicate"]) == (200, False)
    assert (second.status_code, second.json()["duplicate"]) == (200, False)
    assert on_hand(levels) == {"TEE": 13, "MUG": 4}
    assert InboundMessage.objects.filter(message_id="adj-1").count() == 2


def adjustment_body(node="dc-east", message_id="adj-9", delta=1):
    return {"node": node, "message_id": message_id, "lines": [{"sku": "TEE-1", "delta": delta}]}


# --- availability ------------------------------------------------------------------------


@pytest.fixture
def network():
    """Around ZIP 10001 (Manhattan): a pickup store 0.4 mi away, a ship-from-store 82.7 mi, a
    pickup-only store 188 mi (too far), a DC 473 mi, and an inactive DC."""
    dc = NodeFactory(code="dc-columbus", latitude=Decimal("39.8680"), longitude=Decimal("-82.9110"))
    nyc = StoreFactory(
        code="store-nyc", latitude=Decimal("40.7506"), longitude=Decimal("-73.9888"), can_ship=False
    )
    phl = StoreFactory(code="store-phl", latitude=Decimal("39.9516"), longitude=Decimal("-75.1680"))
    bos = StoreFactory(
        code="store-bos", latitude=Decimal("42.3554"), longitude=Decimal("-71.0605"), can_ship=False
    )
    closed = NodeFactory(code="dc-closed", is_active=False)
    tee, mug = ProductFactory(sku="TEE-1"), ProductFactory(sku="MUG-2")
    stocked(dc, tee, on_hand=100)
    stocked(nyc, tee, on_hand=3)
    stocked(phl, tee, on_hand=2, safety_stock=3)  # available -1: shows as 0
    stocked(bos, tee, on_hand=5)
    stocked(closed, tee, on_hand=50)
    stocked(dc, mug, on_hand=7)
    return {"dc": dc, "nyc": nyc}


def row(node, kind, available, distance, can_ship, can_pickup):
    return {
        "node": node,
        "kind": kind,
        "available": available,
        "distance_miles": distance,
        "can_ship": can_ship,
        "can_pickup": can_pickup,
    }


def test_availability_near_a_us_postal_code(web_api, network):
    # when
    response = web_api.get(AVAILABILITY, {"sku": ["tee-1", "MUG-2"], "postal_code": "10001"})

    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["postal_code"], body["country"], body["pickup_radius_miles"]) == (
        "10001",
        "US",
        50.0,
    )
    assert body["location"] == {"latitude": 40.7484, "longitude": -73.9967, "state": "NY"}
    assert body["items"] == [
        {
            "sku": "TEE-1",
            "is_active": True,
            "network_available": 100,
            "nodes": [
                row("store-nyc", "store", 3, 0.4, False, True),
                row("store-phl", "store", 0, 82.7, True, False),
                row("dc-columbus", "distribution_center", 100, 473.4, True, False),
            ],
        },
        {
            "sku": "MUG-2",
            "is_active": True,
            "network_available": 7,
            "nodes": [
                row("store-nyc", "store", 0, 0.4, False, True),
                row("store-phl", "store", 0, 82.7, True, False),
                row("dc-columbus", "distribution_center", 7, 473.4, True, False),
            ],
        },
    ]


def test_availability_outside_the_us_has_network_totals_but_no_distances(web_api, network):
    # when
    response = web_api.get(
        AVAILABILITY, {"sku": "TEE-1", "postal_code": "SW1A 1AA", "country": "gb"}
    )

    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["country"], body["location"]) == ("GB", None)
    [item] = body["items"]
    assert item["network_available"] == 100
    assert item["nodes"] == [
        row("dc-columbus", "distribution_center", 100, None, True, False),
        row("store-phl", "store", 0, None, True, False),
    ]


@pytest.mark.parametrize(
    ("_case", "params", "code", "field"),
    [
        ("unknown ZIP", {"sku": "TEE-1", "postal_code": "00000"}, "unknown_postal_code", None),
        ("malformed ZIP", {"sku": "TEE-1", "postal_code": "ABC"}, "unknown_postal_code", None),
        ("unknown SKU", {"sku": ["TEE-1", "NOPE"]}, "validation_failed", "sku[1]"),
        ("no SKU", {"postal_code": "10001"}, "validation_failed", "sku"),
        ("51 SKUs", {"sku": [f"S-{i}" for i in range(51)]}, "validation_failed", "sku"),
    ],
)
def test_availability_refusals_are_400(web_api, network, _case, params, code, field):
    # when
    response = web_api.get(AVAILABILITY, params)

    # then
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code
    assert [e["field"] for e in body["errors"]] == ([field] if field else [])


def tables_read(captured):
    names = ("orders_apiclient", "inventory_product", "inventory_node")
    return [next(t for t in names if t in q["sql"]) for q in captured.captured_queries]


def test_availability_takes_two_statements_for_1_or_50_skus(web_api, network):
    """Pinned: a storefront calls this on every page (docs/performance.md). The API key, then
    the products with their stock rows and the node network's version in one LEFT JOIN; the
    nodes are kept per process while that version is unchanged; the rate limit is in Redis.
    A third statement is a regression."""
    # given
    skus = [ProductFactory(sku=f"BULK-{i:02d}").sku for i in range(49)]
    web_api.get(AVAILABILITY, {"sku": "TEE-1"})  # warm up: the key's last_used_at is written

    # when
    with CaptureQueriesContext(connection) as one:
        first = web_api.get(AVAILABILITY, {"sku": "TEE-1", "postal_code": "10001"})
    with CaptureQueriesContext(connection) as fifty:
        second = web_api.get(AVAILABILITY, {"sku": ["TEE-1", *skus], "postal_code": "10001"})

    # then
    assert (first.status_code, second.status_code) == (200, 200)
    assert len(second.json()["items"]) == 50
    for captured in (one, fifty):
        assert tables_read(captured) == ["orders_apiclient", "inventory_product"]
        assert "inventory_stocklevel" in captured.captured_queries[1]["sql"]
        assert "inventory_nodenetworkversion" in captured.captured_queries[1]["sql"]


def nodes_near_10001(web_api, sku="TEE-1"):
    [item] = web_api.get(AVAILABILITY, {"sku": sku, "postal_code": "10001"}).json()["items"]
    return {n["node"]: n for n in item["nodes"]}, item["network_available"]


def test_availability_shows_a_node_change_in_the_very_next_answer(web_api, network):
    """The nodes are kept per process, but never past a change: each of these is in the very
    next answer (the triggers of inventory 0010 change NodeNetworkVersion's token)."""
    from inventory.models import Node

    nodes, total = nodes_near_10001(web_api)
    assert (set(nodes), total) == ({"dc-columbus", "store-nyc", "store-phl"}, 100)

    # a node deactivated with save()
    dc = Node.objects.get(code="dc-columbus")
    dc.is_active = False
    dc.save()
    nodes, total = nodes_near_10001(web_api)
    assert (set(nodes), total) == ({"store-nyc", "store-phl"}, 0)

    # reactivated and moved next door with QuerySet.update() (no save(), no signal)
    Node.objects.filter(code="dc-columbus").update(
        is_active=True, latitude=Decimal("40.7506"), longitude=Decimal("-73.9888")
    )
    nodes, total = nodes_near_10001(web_api)
    assert (nodes["dc-columbus"]["distance_miles"], total) == (0.4, 100)

    # a store far away starts to offer pickup within the radius? No: bos is 188 mi away; but
    # it starts to ship, so it serves the address
    Node.objects.filter(code="store-bos").update(can_ship=True)
    nodes, total = nodes_near_10001(web_api)
    assert nodes["store-bos"]["can_ship"] is True
    assert total == 105

    # a node renamed (its code), and a new node
    Node.objects.filter(code="store-phl").update(code="store-philly", kind="warehouse")
    StoreFactory(code="store-new", latitude=Decimal("40.7000"), longitude=Decimal("-74.0000"))
    nodes, _ = nodes_near_10001(web_api)
    assert "store-phl" not in nodes
    assert nodes["store-philly"]["kind"] == "warehouse"
    assert nodes["store-new"]["available"] == 0

    # a node deleted (with its stock rows)
    from inventory.models import StockLevel

    StockLevel.objects.filter(node__code="store-new").delete()
    Node.objects.filter(code="store-new").delete()
    nodes, _ = nodes_near_10001(web_api)
    assert "store-new" not in nodes


def test_availability_reads_the_nodes_again_only_after_a_network_change(web_api, network):
    """A feed's last_snapshot_at, or a node's name or capacity, is not what availability shows:
    the kept nodes stay; a change of what it shows reads them again, once."""
    from django.utils import timezone

    from inventory.models import Node

    web_api.get(AVAILABILITY, {"sku": "TEE-1"})  # warm up

    def tables_of_next_answer():
        with CaptureQueriesContext(connection) as captured:
            assert web_api.get(AVAILABILITY, {"sku": "TEE-1"}).status_code == 200
        return tables_read(captured)

    Node.objects.filter(code="dc-columbus").update(
        last_snapshot_at=timezone.now(), name="Columbus", daily_capacity=5
    )
    assert tables_of_next_answer() == ["orders_apiclient", "inventory_product"]
    Node.objects.filter(code="dc-columbus").update(can_pickup=True)
    assert tables_of_next_answer() == ["orders_apiclient", "inventory_product", "inventory_node"]
    assert tables_of_next_answer() == ["orders_apiclient", "inventory_product"]


def test_availability_counts_only_active_shipping_nodes_in_the_network(web_api, network):
    # when: no address, so no pickup stores; the closed DC's 50 and the stores' 8 don't count
    response = web_api.get(AVAILABILITY, {"sku": "TEE-1"})

    # then
    [item] = response.json()["items"]
    assert item["network_available"] == 100
    assert {n["node"] for n in item["nodes"]} == {"dc-columbus", "store-phl"}


def serializer_bytes(params, indent=None):
    """What AvailabilityOutputSerializer and DRF's JSONRenderer write for these parameters."""
    from django.conf import settings
    from rest_framework.renderers import JSONRenderer

    from inventory.api.serializers import AvailabilityOutputSerializer
    from inventory.selectors import get_availability

    skus = params["sku"] if isinstance(params["sku"], list) else [params["sku"]]
    availability = get_availability(
        skus=skus,
        postal_code=params.get("postal_code", ""),
        country=params.get("country", "US"),
        pickup_radius_miles=float(settings.OMS_PICKUP_RADIUS_MILES),
    )
    media_type = "application/json" if indent is None else f"application/json; indent={indent}"
    return JSONRenderer().render(AvailabilityOutputSerializer(availability).data, media_type)


@pytest.mark.parametrize(
    "params",
    [
        {"sku": ["tee-1", "MUG-2"], "postal_code": "10001"},
        {"sku": "TEE-1", "postal_code": "SW1A 1AA", "country": "gb"},
        {"sku": ["MUG-2", "TEE-1"]},
        {"sku": ["MUG-2", "OFF-3", "TEE-1"], "postal_code": "10001"},
    ],
)
def test_availability_body_is_byte_identical_to_the_serializers(web_api, network, params):
    """The view writes its JSON directly (AvailabilityJSON, for speed): the bytes must be the
    ones AvailabilityOutputSerializer would have rendered, including an inactive product, a
    non-ASCII node code, U+2028 (escaped by DRF), a node code with % in it (the rows are a
    %-template) and a negative available shown as 0."""
    # given: the oddities a hand-written encoder could get wrong
    StoreFactory(
        code='köln-\u2028"x',
        kind="store",
        latitude=Decimal("40.7000"),
        longitude=Decimal("-74.0000"),
    )
    StoreFactory(code="pct-%d-%s-%%", latitude=Decimal("40.7100"), longitude=Decimal("-74.0100"))
    stocked(network["dc"], ProductFactory(sku="OFF-3", is_active=False), on_hand=4)

    # when
    response = web_api.get(AVAILABILITY, params)

    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.content == serializer_bytes(params)


def test_availability_with_an_indent_asked_for_is_the_serializers_too(web_api, network):
    params = {"sku": ["tee-1", "MUG-2"], "postal_code": "10001"}

    # when
    response = web_api.get(AVAILABILITY, params, HTTP_ACCEPT="application/json; indent=2")

    # then
    assert response.status_code == 200
    assert response.content == serializer_bytes(params, indent=2)
    assert b'\n  "postal_code"' in response.content


def test_availability_is_exact_right_after_a_reservation(web_api, network):
    """No cache in front of the stock: units reserved (the conditional UPDATE routing runs) are
    gone from the very next answer, so a storefront is never promised reserved stock."""
    from django.db.models import F

    from inventory.models import StockLevel

    before = web_api.get(AVAILABILITY, {"sku": "TEE-1"}).json()["items"][0]
    StockLevel.objects.filter(node=network["dc"], product__sku="TEE-1", available__gte=98).update(
        reserved=F("reserved") + 98
    )

    after = web_api.get(AVAILABILITY, {"sku": "TEE-1"}).json()["items"][0]

    assert (before["network_available"], after["network_available"]) == (100, 2)


def test_availability_never_promises_what_reserve_has_taken(web_api, network):
    """Through the service routing uses (reserve(), the conditional UPDATE), one unit at a time
    in a warm process: every answer reflects every reservation made before it, at the node and
    in the network total, down to 0 (never negative, never the stale figure)."""
    from django.db import transaction

    from inventory.models import StockLevel
    from inventory.reservations import ReservationRequest, reserve
    from oms.core.actors import Actor
    from tests.factories.inventory import OrderLineFactory

    nyc = StockLevel.objects.get(node=network["nyc"], product__sku="TEE-1")  # 3 units, pickup
    dc = StockLevel.objects.get(node=network["dc"], product__sku="MUG-2")  # 7 units, ships
    params = {"sku": ["TEE-1", "MUG-2"], "postal_code": "10001"}

    def figures():
        tee, mug = web_api.get(AVAILABILITY, params).json()["items"]
        at = {row["node"]: row["available"] for row in mug["nodes"]}
        pickup = {row["node"]: row["available"] for row in tee["nodes"]}
        return pickup["store-nyc"], at["dc-columbus"], mug["network_available"]

    def take(level, quantity, reference):
        with transaction.atomic():
            [done] = reserve(
                requests=[
                    ReservationRequest(
                        node_id=level.node_id,
                        product_id=level.product_id,
                        quantity=quantity,
                        order_line_id=OrderLineFactory(product=level.product).pk,
                    )
                ],
                actor=Actor.system("test"),
                reference_id=reference,
            )
        return done is not None

    assert figures() == (3, 7, 7)
    for n in range(1, 4):
        assert take(nyc, 1, f"OMS-AVAIL-{n}a")
        assert take(dc, 2, f"OMS-AVAIL-{n}b")
        assert figures() == (3 - n, 7 - 2 * n, 7 - 2 * n)
    # 1 unit left at the DC: a reservation of 2 is refused, and the answer still says 1
    assert not take(dc, 2, "OMS-AVAIL-4")
    assert figures() == (0, 1, 1)


PLAIN_QUERIES = [
    "sku=TEE-1",
    "sku=TEE-1&sku=mug-2&sku=TEE-1&postal_code=10001&country=us",
    "sku=A&postal_code=&country=GB",
    "sku=A&postal_code=SW1A%201AA&country=gb",
    "sku=A&postal_code=10001&postal_code=94103",  # the last one, as QueryDict.get
    "sku=A&country=US&country=CA",
    "sku=A&other=1&utm_source=x",
    f"sku={'X' * 64}&postal_code={'9' * 20}",
]
# Not plain: the serializer decides (trims, refuses, or reads another form).
OTHER_QUERIES = [
    f"sku={'X' * 65}",
    f"sku=A&postal_code={'9' * 21}",
    "sku=%20TEE-1%20",
    "sku=TEE%201",
    "sku=",
    "sku=A&sku=",
    "sku=A&postal_code=%2010001",
    "sku=A&postal_code=10001%20",
    "sku=A&country=",
    "sku=A&country=USA",
    "sku=A&country=U1",
    "sku=A&country=%C3%9CS",
    "sku=caf%C3%A9",
    "sku[0]=A&sku[1]=B",
    "postal_code=10001",
    "",
]


@pytest.mark.parametrize(
    ("query", "plain"),
    [(q, True) for q in PLAIN_QUERIES] + [(q, False) for q in OTHER_QUERIES],
)
def test_plain_availability_query_is_the_serializers_validated_data(query, plain):
    """The view skips AvailabilityQueryInputSerializer for plain queries: what it takes must be
    exactly what the serializer validates, and anything else is left to the serializer."""
    from django.http import QueryDict

    from inventory.api.serializers import AvailabilityQueryInputSerializer
    from inventory.api.views import plain_availability_query

    params = QueryDict(query)
    serializer = AvailabilityQueryInputSerializer(data=params)
    valid = serializer.is_valid()

    taken = plain_availability_query(params)

    if plain:
        assert valid
        assert taken == dict(serializer.validated_data)
    else:
        assert taken is None


def _headers(response):
    return {k: v for k, v in response.items() if k != "X-Correlation-ID"}


@pytest.mark.parametrize(
    "params",
    [
        {"sku": ["tee-1", "MUG-2"], "postal_code": "10001"},
        {"sku": "TEE-1", "postal_code": "SW1A 1AA", "country": "gb"},
        {"sku": "NOPE-9"},  # 400 unknown_sku: raised in the plain path, answered by DRF
        {"sku": "TEE-1", "postal_code": "00000"},  # 400 unknown_postal_code, the same way
    ],
)
def test_availability_plain_calls_are_answered_as_drf_answers_them(web_api, network, params):
    """A plain call (JSON accepted as is) is answered without DRF's Request and Response
    (AvailabilityView._plain_answer); asking for JSON with a parameter goes through DRF's
    dispatch. Status, headers and bytes are the same."""
    from rest_framework.response import Response

    # when
    plain = web_api.get(AVAILABILITY, params, HTTP_ACCEPT="application/json")
    drf = web_api.get(AVAILABILITY, params, HTTP_ACCEPT="application/json; charset=utf-8")
    no_accept = web_api.get(AVAILABILITY, params)

    # then
    ok = plain.status_code == 200
    assert isinstance(plain, Response) is not ok
    assert isinstance(drf, Response)
    assert isinstance(no_accept, Response) is not ok
    assert plain.status_code == drf.status_code == no_accept.status_code
    assert plain.content == drf.content == no_accept.content
    assert _headers(plain) == _headers(drf) == _headers(no_accept)
    assert plain["Allow"] == "GET, HEAD, OPTIONS"


@pytest.mark.parametrize(
    "header",
    [None, "Bearer oms_nope_x", "Token abc"],
)
def test_availability_without_a_good_key_is_drfs_answer(network, header):
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get(AVAILABILITY, {"sku": "TEE-1"}, HTTP_ACCEPT="application/json")

    assert response.status_code in (401, 403)
    assert response.json()["code"] in (
        "not_authenticated",
        "invalid_api_key",
        "invalid_authorization_header",
    )


@override_settings(OMS_API_RATE="3/min")
def test_availability_counts_each_call_once_whichever_path_answers_it(web_api, network):
    """The plain path counts the call; when DRF's dispatch then answers it (an error), it does
    not count it again, and over the rate it answers DRF's 429."""
    from django.core.cache import cache

    cache.clear()
    left = 60 - time.time() % 60
    if left < 2:  # all calls in one window of the rate
        time.sleep(left + 0.01)
    json_ = {"HTTP_ACCEPT": "application/json"}

    statuses = [
        web_api.get(AVAILABILITY, {"sku": "NOPE-9"}, **json_).status_code,
        web_api.get(AVAILABILITY, {"sku": "TEE-1"}, **json_).status_code,
        web_api.get(AVAILABILITY, {"sku": "TEE-1"}, **json_).status_code,
    ]
    refused = web_api.get(AVAILABILITY, {"sku": "TEE-1"}, **json_)
    cache.clear()

    assert statuses == [400, 200, 200]
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert 0 < int(refused["Retry-After"]) <= 60
