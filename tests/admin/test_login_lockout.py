"""Sign-in lockout (django-axes, docs/security.md): N wrong passwords for one (username, IP)
lock that combination out, even with the right password afterwards, with a readable page in the
look of the screen; ops unlock it in the admin (or with axes_reset_username), and the same
username from another IP is not locked."""

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client, override_settings

from tests.admin.conftest import client_for
from tests.factories.users import PASSWORD, staff_user, superuser
from tests.stores import scenario

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("lockout_on"),
]
LIMIT = 3


@pytest.fixture
def lockout_on():
    with override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=LIMIT):
        yield


def sign_in(client: Client, path: str, username: str, password: str):
    return client.post(path, {"username": username, "password": password, "next": ""})


def test_admin_locks_after_n_wrong_passwords_and_ops_reset_it_in_the_admin():
    superuser("boss")
    browser = Client(REMOTE_ADDR="203.0.113.5")
    for _ in range(LIMIT - 1):
        response = sign_in(browser, "/admin/login/", "boss", "wrong")
        assert response.status_code == 200  # the login form again, with its error

    locked = sign_in(browser, "/admin/login/", "boss", "wrong")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Sign-in locked" in page
    assert "Too many wrong passwords" in page
    assert "30 minutes" in page
    assert int(locked["Retry-After"]) == 30 * 60

    # the right password is refused now
    response = sign_in(browser, "/admin/login/", "boss", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in browser.session

    # another IP is another combination
    elsewhere = Client(REMOTE_ADDR="198.51.100.9")
    assert sign_in(elsewhere, "/admin/login/", "boss", PASSWORD).status_code == 302

    # ops (ops_admin group) see the attempt and delete it: that is the reset
    ops = client_for(staff_user("olga", "ops_admin"))
    attempt = AccessAttempt.objects.get(username="boss")
    assert ops.get("/admin/axes/accessattempt/").status_code == 200
    response = ops.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="boss").exists()

    response = sign_in(browser, "/admin/login/", "boss", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_store_login_locks_after_n_wrong_passwords_and_the_command_resets_it(db):
    node = scenario.network()["a"]
    scenario.associate("sam", node)
    browser = Client(REMOTE_ADDR="203.0.113.6")
    for _ in range(LIMIT):
        response = sign_in(browser, "/store/login/", "sam", "wrong")
    assert response.status_code == 429
    page = response.content.decode()
    assert "Sign-in locked" in page
    assert "ask operations" in page
    assert 'href="/store/login/"' in page  # the store's page, not the admin's

    assert sign_in(browser, "/store/login/", "sam", scenario.PASSWORD).status_code == 429

    call_command("axes_reset_username", "sam")

    response = sign_in(browser, "/store/login/", "sam", scenario.PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/store/"
