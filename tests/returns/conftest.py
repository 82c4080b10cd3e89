import pytest

from tests.returns import support


@pytest.fixture
def nodes(db):
    return support.network()
