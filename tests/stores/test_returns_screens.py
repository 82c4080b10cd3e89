"""The "receive a return" store screens: scoped to the associate's stores, a double tap
receives once, inspection puts restocked units into the store's stock."""

import pytest

from inventory.models import NodeConnector
from oms.events.models import Event
from returns.models import Refund, Return
from returns.policy import RequestedLine
from returns.services.requests import ReturnRequest, request_return
from tests.factories.inventory import NodeFactory, StoreFactory
from tests.returns.support import SYSTEM, ensure_default_policy, ledger, shipped_order, stock
from tests.stores import scenario
from tests.stores.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db, django_capture_on_commit_callbacks):
    ensure_default_policy()
    dc = NodeFactory(code="dc-columbus", connector=NodeConnector.API, can_accept_returns=True)
    store = StoreFactory(code="store-5th-ave", name="Fifth Avenue", connector=NodeConnector.API)
    other = StoreFactory(code="store-brooklyn", name="Brooklyn", connector=NodeConnector.API)
    order = shipped_order(dc, external_id="S-R1", lines=[("TEE", 2, "20.00")])
    with django_capture_on_commit_callbacks(execute=True):
        rma = request_return(
            order_id=order.pk,
            request=ReturnRequest(
                lines=[RequestedLine(1, 2, "size_fit", "unopened")],
                return_node_code=store.code,
                authorize=True,
            ),
            actor=SYSTEM,
        )
    return {
        "store": store,
        "rma": rma,
        "alice": scenario.associate("alice", store),
        "bob": scenario.associate("bob", other),
    }


def test_the_associate_sees_the_returns_expected_at_their_store(world):
    page = client_for(world["alice"]).get("/store/returns/")
    elsewhere = client_for(world["bob"]).get("/store/returns/")

    assert page.status_code == 200
    assert world["rma"].number in page.content.decode()
    assert world["rma"].number not in elsewhere.content.decode()


def test_receive_then_inspect_puts_the_units_on_sale_in_the_store(
    world, django_capture_on_commit_callbacks
):
    alice = client_for(world["alice"])
    number = world["rma"].number
    page = alice.get(f"/store/returns/{number}/")
    token = page.context["receive"]["token"].value()

    with django_capture_on_commit_callbacks(execute=True):
        received = alice.post(
            f"/store/returns/{number}/receive/",
            {"token": token, "node": world["store"].pk, "line_1": 2},
        )
        double_tap = alice.post(
            f"/store/returns/{number}/receive/",
            {"token": token, "node": world["store"].pk, "line_1": 2},
        )
        page = alice.get(f"/store/returns/{number}/")
        inspect_token = page.context["inspect"]["token"].value()
        inspected = alice.post(
            f"/store/returns/{number}/inspect/",
            {
                "token": inspect_token,
                "line_1_restock": 1,
                "line_1_damaged": 1,
                "line_1_vendor_return": 0,
                "line_1_destroy": 0,
            },
        )

    rma = Return.objects.get(pk=world["rma"].pk)
    assert (received.status_code, double_tap.status_code, inspected.status_code) == (302, 302, 302)
    assert rma.received_node == world["store"]
    assert rma.status == "closed"  # refunded on commit
    assert stock(world["store"], "TEE") == (1, 0)
    assert ledger(world["store"], "TEE", "return_restock") == [1]
    follow = alice.get(f"/store/returns/{number}/")
    assert "1 restock" in follow.content.decode()


def test_another_store_may_find_a_return_by_number_but_not_inspect_it(world):
    bob = client_for(world["bob"])
    number = world["rma"].number

    found = bob.get("/store/returns/", {"number": number.lower()})
    guessed = bob.get("/store/returns/RMA-0000-0000/")
    nobody = client_for(scenario.associate("carol")).get(f"/store/returns/{number}/")

    assert found.status_code == 302
    assert found["Location"] == f"/store/returns/{number}/"
    assert guessed.status_code == 404
    assert nobody.status_code == 404


def test_a_count_of_nothing_is_refused_in_words(world):
    alice = client_for(world["alice"])
    number = world["rma"].number
    token = alice.get(f"/store/returns/{number}/").context["receive"]["token"].value()

    response = alice.post(
        f"/store/returns/{number}/receive/",
        {"token": token, "node": world["store"].pk, "line_1": 0},
    )

    assert response.status_code == 400
    assert "Count at least one unit that came back." in response.content.decode()
    assert Return.objects.get(pk=world["rma"].pk).status == "authorized"


def test_a_double_tap_on_inspect_inspects_once_and_answers_like_the_first(
    world, django_capture_on_commit_callbacks
):
    # given: received at the store
    alice = client_for(world["alice"])
    number = world["rma"].number
    token = alice.get(f"/store/returns/{number}/").context["receive"]["token"].value()
    alice.post(
        f"/store/returns/{number}/receive/",
        {"token": token, "node": world["store"].pk, "line_1": 2},
    )
    inspect_token = alice.get(f"/store/returns/{number}/").context["inspect"]["token"].value()
    form = {
        "token": inspect_token,
        "line_1_restock": 2,
        "line_1_damaged": 0,
        "line_1_vendor_return": 0,
        "line_1_destroy": 0,
    }

    # when: the same form is sent twice (a double tap)
    with django_capture_on_commit_callbacks(execute=True):
        first = alice.post(f"/store/returns/{number}/inspect/", form)
        second = alice.post(f"/store/returns/{number}/inspect/", form, follow=True)
    # and a different inspection under the same token is refused, in words
    reused = alice.post(
        f"/store/returns/{number}/inspect/", {**form, "line_1_restock": 1, "line_1_damaged": 1}
    )

    # then: one inspection, one restock, one refund; the second tap lands on the return
    rma = Return.objects.get(pk=world["rma"].pk)
    assert (first.status_code, second.redirect_chain[-1][1]) == (302, 302)
    assert second.status_code == 200
    assert "Inspected. 2 units back on sale in this store" in second.content.decode()
    assert reused.status_code == 409
    assert rma.status == "closed"
    assert stock(world["store"], "TEE") == (2, 0)
    assert ledger(world["store"], "TEE", "return_restock") == [2]
    assert Event.objects.filter(stream=rma.order.stream, type="return.inspected").count() == 1
    assert Refund.objects.filter(rma=rma).count() == 1
