"""oms.core.csp.CSPMiddleware keeps the plain policy's header instead of building it on every
response; every header it writes is the one django-csp's own middleware writes for the same
request and response (docs/security.md, "Content Security Policy")."""

import pytest
from csp.constants import HEADER, HEADER_REPORT_ONLY, NONCE
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from oms.core.csp import ADMIN, CSPMiddleware

RO_POLICY = {"DIRECTIVES": {"default-src": ["'self'"], "report-uri": "/csp-report/"}}


def _both(path="/api/v1/orders/", *, prepare=None, nonce=False):
    """The headers of (django-csp, ours) for the same request and response."""
    out = []
    for middleware in (DjangoCSPMiddleware, CSPMiddleware):
        mw = middleware(lambda request: HttpResponse("x"))
        request = RequestFactory().get(path)
        mw.process_request(request)
        if nonce:
            str(request.csp_nonce)
        response = HttpResponse("x")
        if prepare:
            prepare(response)
        mw.process_response(request, response)
        out.append((response.get(HEADER), response.get(HEADER_REPORT_ONLY), request))
    return out


def _same(theirs, ours):
    assert theirs[:2] == ours[:2]


@pytest.mark.parametrize("path", ["/api/v1/orders/", "/store/", "/admin/"])
def test_a_plain_response_gets_django_csps_header(path):
    theirs, ours = _both(path)
    _same(theirs, ours)
    assert ours[0]
    assert "default-src 'self'" in ours[0]
    # as django-csp: a nonce asked for after the header is written is an error
    with pytest.raises(Exception, match="after the CSP header"):
        str(ours[2].csp_nonce)


@pytest.mark.parametrize(
    "prepare",
    [
        lambda r: setattr(r, "_csp_update", ADMIN),
        lambda r: setattr(r, "_csp_replace", {"img-src": ["https://x.example"]}),
        lambda r: setattr(r, "_csp_exempt", True),
        lambda r: r.__setitem__(HEADER, "default-src 'none'"),
    ],
    ids=["update", "replace", "exempt", "already-set"],
)
def test_a_response_that_changes_its_policy_gets_django_csps_header(prepare):
    theirs, ours = _both(prepare=prepare)
    _same(theirs, ours)


def test_a_nonce_and_settings_changes_are_django_csps():
    with override_settings(CONTENT_SECURITY_POLICY={"DIRECTIVES": {"script-src": [NONCE]}}):
        theirs, ours = _both(nonce=True)
        assert "script-src 'nonce-" in ours[0]
        assert ours[0] != theirs[0]  # a nonce of each request's own
        theirs, ours = _both()  # no nonce asked for: none in the header
        _same(theirs, ours)
        assert "nonce" not in ours[0]
    before = _both()[1][0]
    with override_settings(CONTENT_SECURITY_POLICY_REPORT_ONLY=RO_POLICY):
        theirs, ours = _both()
        _same(theirs, ours)
        assert ours[1]
        assert "report-uri /csp-report/" in ours[1]
    with override_settings(CONTENT_SECURITY_POLICY={"DIRECTIVES": {"default-src": ["'none'"]}}):
        theirs, ours = _both()
        _same(theirs, ours)
        assert ours[0] == "default-src 'none'"
    with override_settings(
        CONTENT_SECURITY_POLICY={
            "EXCLUDE_URL_PREFIXES": ["/api/"],
            "DIRECTIVES": {"default-src": ["'self'"]},
        }
    ):
        theirs, ours = _both()
        _same(theirs, ours)
        assert ours[0] is None
    assert _both()[1][0] == before
