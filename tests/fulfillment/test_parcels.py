"""A shipment heavier than one parcel goes out as several cartons under the carrier's limit (a
B2B order of hundreds of units), never as one parcel the carrier refuses."""

import pytest
from django.test import TestCase

from fulfillment.models import FulfillmentOrder, FulfillmentStatus, Shipment
from fulfillment.services.labels import PARCEL_LIMIT_GRAMS, parcels_for, ship_with_carrier
from fulfillment.services.orchestration import orchestrate_order
from inventory.models import NodeConnector
from tests.factories.inventory import NodeFactory, ProductFactory, stocked
from tests.factories.orders import captured_order
from tests.returns.support import SYSTEM


@pytest.mark.parametrize(
    ("grams", "weights"),
    [
        (0, [1]),
        (500, [500]),
        (30_000, [30_000]),
        (30_001, [15_001, 15_000]),
        (95_000, [23_750] * 4),
    ],
)
def test_parcels_split_evenly_under_the_limit(grams, weights):
    parcels = parcels_for(grams)

    assert [p.weight_grams for p in parcels] == weights
    assert sum(p.weight_grams for p in parcels) == max(grams, 1)
    assert all(p.weight_grams <= PARCEL_LIMIT_GRAMS for p in parcels)


@pytest.mark.django_db
def test_a_heavy_b2b_shipment_ships_as_several_tracked_cartons():
    dc = NodeFactory(code="dc-b2b", connector=NodeConnector.API, address_line1="1 Dock Rd")
    stocked(dc, ProductFactory(sku="HOODIE-L", weight_grams=620), on_hand=500)
    order = captured_order(external_id="PO-08292233294", skus=["HOODIE-L"], quantity=220)
    with TestCase.captureOnCommitCallbacks(execute=True):
        orchestrate_order(order_id=order.pk)
    fo = FulfillmentOrder.objects.get(order=order)

    with TestCase.captureOnCommitCallbacks(execute=True):
        ship_with_carrier(fulfillment_id=fo.pk, actor=SYSTEM)

    fo.refresh_from_db()
    assert fo.status == FulfillmentStatus.SHIPPED
    # 220 x 620 g = 136.4 kg: five cartons of at most 30 kg, each with its own tracking number
    tracking = set(
        Shipment.objects.filter(fulfillment=fo).values_list("tracking_number", flat=True)
    )
    assert len(tracking) == 5
