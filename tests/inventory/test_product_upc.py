"""Products carry the barcode number on their package (`Product.upc`: UPC-A, EAN-13, GTIN-14 or
EAN-8 with its check digit, kept in one canonical form), and trading partners that name items
by it are understood: an 850's UP/EN/UK ids, a 945's W12, a 944's W07."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from channels.adapters.x12 import X12
from fulfillment.x12.mapping import LineToShip, map_advice
from integrations.x12 import ItemId, ShipmentAdviceLine, WarehouseShippingAdvice
from inventory.admin import ProductAdmin
from inventory.models import Product, normalize_upc
from returns.x12 import received_per_line
from tests.factories.inventory import ProductFactory

UPC_A = "012345678905"


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        (UPC_A, UPC_A),
        ("0012345678905", UPC_A),  # the same code as EAN-13
        ("00012345678905", UPC_A),  # and as GTIN-14
        ("0 12345 67890 5", UPC_A),  # as printed under the bars
        ("4006381333931", "4006381333931"),  # an EAN-13 that is no UPC-A
        ("10012345678902", "10012345678902"),  # a GTIN-14 of a case of UPC_A
        ("96385074", "000096385074"),  # EAN-8
        ("012345678906", None),  # wrong check digit
        ("12345", None),
        ("ABC123456789", None),
        ("", None),
        (None, None),
    ],
)
def test_codes_are_read_in_one_canonical_form(value, canonical):
    assert normalize_upc(value) == canonical


@pytest.mark.django_db
def test_a_product_keeps_the_canonical_form_and_no_two_products_share_a_code():
    # given
    product = ProductFactory(sku="TEE", upc="0012345678905")

    # then
    product.refresh_from_db()
    assert product.upc == UPC_A

    # when: another product with the same code in another form
    with pytest.raises(IntegrityError), transaction.atomic():
        ProductFactory(sku="CAP", upc="00012345678905")

    # and products without a code are many
    ProductFactory(sku="A")
    ProductFactory(sku="B")
    assert Product.objects.filter(upc="").count() == 2


@pytest.mark.django_db
def test_the_admin_form_explains_a_bad_code_and_a_taken_one(rf, admin_user):
    from django.contrib.admin.sites import site

    ProductFactory(sku="TEE", upc=UPC_A)
    admin = ProductAdmin(Product, site)
    request = rf.post("/")
    request.user = admin_user
    form_class = admin.get_form(request)

    bad = form_class(data={"sku": "CAP", "name": "Cap", "upc": "012345678906", "is_active": True})
    assert not bad.is_valid()
    assert "check digit" in bad.errors["upc"][0]

    taken = form_class(
        data={"sku": "CAP", "name": "Cap", "upc": "0012345678905", "is_active": True}
    )
    assert not taken.is_valid()
    assert "Another product has this UPC" in str(taken.errors)

    good = form_class(data={"sku": "CAP", "name": "Cap", "upc": "4006381333931", "is_active": True})
    assert good.is_valid(), good.errors
    assert good.save().upc == "4006381333931"


@pytest.mark.django_db
def test_an_850_line_named_only_by_its_upc_finds_the_product():
    ProductFactory(sku="TEE", upc=UPC_A)
    adapter = X12()

    # the buyer sends the EAN-13 form, or the UPC-A; a stranger code finds nothing
    assert adapter.resolve({"item_ids": [["BP", "B-77"], ["EN", "0012345678905"]]}, {}) == "TEE"
    assert adapter.resolve({"item_ids": [["UP", UPC_A]]}, {}) == "TEE"
    assert adapter.resolve({"item_ids": [["UP", "4006381333931"]]}, {}) == ""
    # a vendor part number that happens to be digits is not read as a package code
    assert adapter.resolve({"item_ids": [["VP", UPC_A]]}, {}) == ""


def test_a_945_line_named_by_the_upc_ships_the_line_of_that_product():
    lines = (LineToShip(id=11, sku="TEE", quantity=2, upc=UPC_A),)
    advice = WarehouseShippingAdvice(
        depositor_order_number="F-1",
        lines=(
            ShipmentAdviceLine(
                quantity_shipped=Decimal(2), unit="EA", item_ids=(ItemId("UK", "00012345678905"),)
            ),
        ),
    )
    plan = map_advice(
        advice,
        lines,
        number="F-1",
        node_timezone="UTC",
        fallback_tracking="file-1",
        now=dt.datetime(2026, 12, 6, tzinfo=dt.UTC),
    )
    assert (plan.shipped, plan.short) == ({11: 2}, False)


def test_a_944_w07_named_by_the_upc_receives_the_line_of_that_product():
    received, damaged, problems = received_per_line(
        [
            {"line_number": "1", "quantity": "2", "unit": "EA", "upc_case_code": "0012345678905"},
            {"line_number": "2", "quantity": "1", "item_ids": [["UP", "4006381333931"]]},
        ],
        [(1, "TEE", 3, UPC_A), (2, "CAP", 1, "")],
    )
    assert (received, damaged) == ({1: 2, 2: 0}, {})
    assert problems == [("unknown_item", "W07 2 (4006381333931) is no item of the return.")]
