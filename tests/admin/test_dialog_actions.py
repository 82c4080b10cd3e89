"""Page buttons built with oms.core.admin_actions.dialog_action(): a GET only shows the dialog,
its POST calls the service once for the page's object, a refusal becomes "<object>: <detail>",
and the answer goes back to the object's page (HX-Redirect for htmx)."""

import pytest
from django.urls import reverse

from oms.core.models import RuleSetStatus
from ops.models import ExceptionRuleSet
from ops.services.rulesets import create_exception_rule_set
from tests.admin.conftest import client_for, messages_of
from tests.factories.orders import ChannelFactory, issue_api_key
from tests.factories.users import superuser

pytestmark = pytest.mark.django_db

SUBMITTED = {"_form_submitted": "True"}


def test_revoke_asks_first_then_revokes_and_goes_back_to_the_page(superuser_client):
    client = issue_api_key(ChannelFactory(code="web"), "storefront").client
    url = reverse("admin:orders_apiclient_revoke_detail", args=[client.pk])
    page = reverse("admin:orders_apiclient_change", args=[client.pk])

    dialog = superuser_client.get(url)
    client.refresh_from_db()
    assert dialog.status_code == 200
    assert "Revoke this API client?" in dialog.text
    assert client.revoked_at is None

    response = superuser_client.post(url, SUBMITTED)
    client.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == page
    assert client.revoked_at is not None
    assert messages_of(response) == [("success", f"{client} revoked.")]

    htmx = superuser_client.post(url, SUBMITTED, headers={"HX-Request": "true"})
    assert htmx.status_code == 200
    assert htmx["HX-Redirect"] == page


def test_a_dialog_action_on_an_unknown_object_is_a_404(superuser_client):
    url = reverse("admin:orders_apiclient_revoke_detail", args=[999_999])

    assert superuser_client.post(url, SUBMITTED).status_code == 404


def test_exception_rule_set_review_buttons_call_the_services():
    author, checker = superuser("rules-author"), superuser("rules-checker")
    rule_set = create_exception_rule_set(name="Ops", rules=[], author=author, key="ops")

    def press(user, name):
        url = reverse(f"admin:ops_exceptionruleset_{name}_detail", args=[rule_set.pk])
        return client_for(user).post(url, SUBMITTED)

    submitted = press(author, "submit")
    assert submitted["Location"] == reverse("admin:ops_exceptionruleset_change", args=[rule_set.pk])
    assert messages_of(submitted) == [("success", "Submitted for approval.")]

    refused = press(author, "approve")  # maker-checker: the author cannot approve
    rule_set.refresh_from_db()
    [(level, text)] = messages_of(refused)
    assert level == "error"
    assert text.startswith(f"{rule_set}: ")
    assert rule_set.status == RuleSetStatus.PENDING_APPROVAL

    approved = press(checker, "approve")
    assert messages_of(approved) == [("success", "Approved: this rule set is now active.")]
    assert ExceptionRuleSet.objects.get(pk=rule_set.pk).status == RuleSetStatus.ACTIVE
