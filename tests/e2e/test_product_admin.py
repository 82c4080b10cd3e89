"""A product's barcode in the admin, in a real browser: a code with a wrong check digit is
refused with a sentence that says what is wrong, the right code (typed as printed under the bars)
is kept in canonical form, and the list shows and finds it. Screenshots in
test-artifacts/e2e/<test name>/."""

import re

import pytest
from playwright.sync_api import expect

from inventory.models import Product
from tests.e2e.harness import CHROMIUM
from tests.e2e.test_exception_console import Browser, browser  # noqa: F401
from tests.factories.inventory import ProductFactory
from tests.factories.users import PASSWORD, superuser

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        CHROMIUM is None, reason="Chromium is not installed (no `chromium` on PATH)"
    ),
    pytest.mark.django_db(transaction=True),
]


def test_a_products_barcode_in_the_admin(browser):  # noqa: F811
    superuser("olga")
    product = ProductFactory(sku="TEE-GRN-M", name="Organic Tee, Green, M")
    page = browser.page
    page.set_viewport_size({"width": 1440, "height": 900})
    change = f"/admin/inventory/product/{product.pk}/change/"
    browser.open(f"/admin/login/?next={change}")
    page.locator("input[name=username]").fill("olga")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    expect(page).to_have_url(re.compile(re.escape(change) + "$"))

    # a wrong check digit is refused, saying why
    page.locator("input[name=upc]").fill("0 12345 67890 6")
    page.locator("[name=_continue]").click()
    expect(page.get_by_text("valid check digit")).to_be_visible()
    browser.shot("wrong-check-digit")

    # the code as printed under the bars is kept in canonical form
    page.locator("input[name=upc]").fill("0 12345 67890 5")
    page.locator("[name=_continue]").click()
    expect(page.locator("input[name=upc]")).to_have_value("012345678905")
    assert Product.objects.get(pk=product.pk).upc == "012345678905"

    # the list shows it, and a search by the code finds the product
    browser.open("/admin/inventory/product/?q=0012345678905")  # as EAN-13
    expect(page.get_by_role("link", name="TEE-GRN-M")).to_be_visible()
    browser.shot("list-found-by-barcode")
