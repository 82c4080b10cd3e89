"""The API's content negotiation (oms/api/negotiation.py) answers as DRF's own for every Accept
header, remembered or not, and refuses what DRF refuses with the API's error shape."""

import pytest
from django.http import Http404
from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from oms.api import negotiation
from oms.api.negotiation import RememberingContentNegotiation

ACCEPTS = [
    None,
    "*/*",
    "application/json",
    "application/json; indent=4",
    "application/*",
    "text/html, application/json;q=0.9",
    "text/html",
    "application/xml",
]


def _request(accept: str | None, query: str = "") -> Request:
    extra = {} if accept is None else {"HTTP_ACCEPT": accept}
    return Request(APIRequestFactory().get(f"/api/v1/orders/{query}", **extra))


def _choice(negotiator, accept: str | None, renderers, query: str = ""):
    try:
        renderer, media_type = negotiator.select_renderer(_request(accept, query), renderers)
    except exceptions.NotAcceptable:
        return "406"
    except Http404:  # a ?format= no renderer has
        return "404"
    return renderers.index(renderer), media_type


@pytest.fixture(autouse=True)
def _forget():
    negotiation._chosen.clear()
    yield
    negotiation._chosen.clear()


@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize(
    "renderer_classes", [[JSONRenderer], [JSONRenderer, BrowsableAPIRenderer]], ids=["json", "two"]
)
def test_the_same_answer_as_drf_first_and_remembered(accept, renderer_classes):
    expected = _choice(DefaultContentNegotiation(), accept, [c() for c in renderer_classes])
    negotiator = RememberingContentNegotiation()
    for _ in range(3):  # the first answer is computed, the next ones remembered
        # new renderer instances each time, as each request gets: the choice is by position
        renderers = [c() for c in renderer_classes]
        assert _choice(negotiator, accept, renderers) == expected


def test_answers_are_remembered_per_header_and_renderer_classes():
    negotiator = RememberingContentNegotiation()
    _choice(negotiator, "application/json", [JSONRenderer()])
    _choice(negotiator, "application/json", [JSONRenderer(), BrowsableAPIRenderer()])
    _choice(negotiator, "text/html", [JSONRenderer()])  # refused: not remembered
    assert set(negotiation._chosen) == {
        ("application/json", (JSONRenderer,)),
        ("application/json", (JSONRenderer, BrowsableAPIRenderer)),
    }


def test_a_format_override_goes_through_drf_every_time():
    negotiator = RememberingContentNegotiation()
    renderers = [JSONRenderer(), BrowsableAPIRenderer()]
    for query, expected in (
        ("?format=json", (0, "application/json")),
        ("?format=api", (1, "text/html")),
        ("?format=xml", "404"),
    ):
        assert _choice(DefaultContentNegotiation(), "*/*", renderers, query) == expected
        assert _choice(negotiator, "*/*", renderers, query) == expected
    assert negotiation._chosen == {}


def test_the_cache_is_bounded():
    negotiator = RememberingContentNegotiation()
    for n in range(negotiation._MAX_REMEMBERED + 50):
        assert _choice(negotiator, f"application/json; v={n}", [JSONRenderer()])[0] == 0
    assert len(negotiation._chosen) == negotiation._MAX_REMEMBERED


@pytest.mark.django_db
def test_the_api_refuses_an_accept_it_cannot_answer_with_its_error_shape(client):
    response = client.get("/api/v1/orders/", HTTP_ACCEPT="text/html")
    assert response.status_code == 406
    assert response.json()["code"] == "not_acceptable"
