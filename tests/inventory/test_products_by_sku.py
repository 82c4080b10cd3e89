"""inventory.selectors.products_by_sku, on the capture path, reads through
oms.core.queries.CompiledLookup.rows: the SQL is compiled once per thread and number of SKUs,
the rows are read on every call, and the products are the ORM's, field for field."""

import pytest
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from inventory.models import Product
from inventory.selectors import products_by_sku
from oms.core.queries import CompiledLookup
from tests.factories.inventory import ProductFactory

pytestmark = pytest.mark.django_db


def test_products_are_the_orms_and_every_call_reads_the_rows():
    made = [ProductFactory(sku=f"PBS-{n}", is_active=n != 2) for n in range(4)]

    found = products_by_sku(["pbs-0", "PBS-2 ", "PBS-3", "NOT-THERE", "PBS-3"])

    assert sorted(found) == ["PBS-0", "PBS-2", "PBS-3"]
    for product in made:
        if product.sku in found:
            got = found[product.sku]
            assert type(got) is Product
            assert got.pk == product.pk
            assert model_to_dict(got) == model_to_dict(Product.objects.get(pk=product.pk))
            assert got._state.adding is False
            assert got._state.db == "default"
    # a change is seen at once (nothing but the SQL text is kept)
    Product.objects.filter(sku="PBS-0").update(name="Renamed", is_active=False)
    with CaptureQueriesContext(connection) as ctx:
        again = products_by_sku(["PBS-0"])
    assert again["PBS-0"].name == "Renamed"
    assert again["PBS-0"].is_active is False
    assert len(ctx.captured_queries) == 1
    assert products_by_sku(["NOPE"]) == {}
    assert products_by_sku([]) == {}


def test_a_long_list_goes_the_ordinary_way_with_the_same_answer():
    ProductFactory.create_batch(3)
    skus = [p.sku for p in Product.objects.all()] + [f"X-{n}" for n in range(100)]
    assert len(skus) > CompiledLookup.MAX_LIST
    assert set(products_by_sku(skus)) == {p.sku for p in Product.objects.all()}


def test_a_queryset_without_the_markers_is_evaluated_the_ordinary_way():
    ProductFactory(sku="ORD-1")
    # the markers vanish from the parameters (a lookup that does not take the list)
    lookup = CompiledLookup(lambda skus: Product.objects.filter(sku="ORD-1"))
    assert [p.sku for p in lookup.rows(["anything"])] == ["ORD-1"]
