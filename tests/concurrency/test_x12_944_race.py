"""The same 944 imported by parallel inbox runs (copies of one file, real threads, each with
its own database connection) receives the return once."""

import threading

import pytest
from django.db import connection

from fulfillment.x12.inbox import import_945_file
from integrations.models import InboundMessage
from inventory.models import NodeConnector
from oms.events.models import Event
from returns.models import Return
from returns.policy import RequestedLine, create_return_policy
from returns.services.requests import ReturnRequest, request_return
from tests.factories.inventory import NodeFactory
from tests.integrations.x12_944 import w07_loop, x12_944
from tests.returns.support import SYSTEM, shipped_order

pytestmark = pytest.mark.django_db(transaction=True)

N = 6


def test_parallel_imports_of_one_944_receive_once(settings, tmp_path):
    # given
    settings.OMS_X12_OUTBOX_DIR = tmp_path / "outbox"
    create_return_policy(channel=None, terms={}, actor=SYSTEM)
    dc = NodeFactory(code="dc-columbus", connector=NodeConnector.API, can_accept_returns=True)
    NodeFactory(
        code="dc-3pl",
        connector=NodeConnector.X12_FILE,
        connector_settings={"sender_id": "OMS", "receiver_id": "DC-3PL"},
        can_accept_returns=True,
        priority=50,
    )
    order = shipped_order(dc, external_id="RACE-944", lines=[("TEE", 2, "20.00")])
    rma = request_return(
        order_id=order.pk,
        request=ReturnRequest(
            lines=[RequestedLine(1, 2, "size_fit")], authorize=True, return_node_code="dc-3pl"
        ),
        actor=SYSTEM,
    )
    text = x12_944(rma.number, [w07_loop(1, "2", "TEE")])
    paths = []
    for i in range(N):
        inbox = tmp_path / f"inbox-{i}"  # one inbox each: a file is moved by its own run
        inbox.mkdir()
        (inbox / "944.edi").write_text(text)
        paths.append(inbox / "944.edi")
    barrier = threading.Barrier(N)
    outcomes: list = [None] * N

    def importer(i: int) -> None:
        try:
            barrier.wait()
            outcomes[i] = [a.outcome for a in import_945_file(paths[i]).advices]
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=importer, args=(i,)) for i in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # then
    assert sorted(o for found in outcomes for o in found) == ["duplicate"] * (N - 1) + [
        "received"
    ], outcomes
    assert Return.objects.get(pk=rma.pk).status == "received"
    assert Event.objects.filter(stream=order.stream, type="return.received").count() == 1
    assert list(InboundMessage.objects.values_list("kind", "status")) == [("x12.944", "processed")]
