import pytest

from tests.returns import support


@pytest.fixture(autouse=True)
def _default_policy(request):
    """Every returns test starts with the default policy the migration makes."""
    if "db" in request.fixturenames or request.node.get_closest_marker("django_db"):
        request.getfixturevalue("db")
        support.ensure_default_policy()


@pytest.fixture
def nodes(db):
    return support.network()
