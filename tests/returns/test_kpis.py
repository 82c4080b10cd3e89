"""The returns KPIs on the dashboard: return rate, refund amount, receipt → refund time,
exchange share."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from ops.kpis.dashboard import build_dashboard
from returns.models import Refund, Return
from returns.policy import RequestedLine
from returns.selectors import return_figures
from returns.services.receipt import inspect_return, receive_return
from returns.services.requests import ReturnRequest, request_return
from tests.factories.orders import ChannelFactory, captured_order
from tests.returns.support import SYSTEM, shipped_order

pytestmark = pytest.mark.django_db


def test_return_kpis_count_returns_refunds_and_exchanges(nodes, django_capture_on_commit_callbacks):
    # given: four orders; one return refunded 3 h after receipt, one even exchange
    orders = [
        shipped_order(nodes["dc"], external_id=f"K{i}", lines=[("TEE", 1, "20.00")])
        for i in range(4)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        refunded = request_return(
            order_id=orders[0].pk,
            request=ReturnRequest(lines=[RequestedLine(1, 1, "size_fit")], authorize=True),
            actor=SYSTEM,
        )
        receive_return(return_id=refunded.pk, node_id=nodes["dc"].pk, actor=SYSTEM)
        inspect_return(return_id=refunded.pk, dispositions={1: {"restock": 1}}, actor=SYSTEM)
        request_return(
            order_id=orders[1].pk,
            request=ReturnRequest(
                lines=[RequestedLine(1, 1, "size_fit")], exchange_kind="even", authorize=True
            ),
            actor=SYSTEM,
        )
    refund = Refund.objects.get()
    Return.objects.filter(pk=refunded.pk).update(
        received_at=refund.refunded_at - timedelta(hours=3)
    )
    now = timezone.now()

    # when
    figures = return_figures(now - timedelta(days=1), now + timedelta(minutes=1))
    cards = {c["title"]: c["period"] for c in build_dashboard()["cards"]}

    # then: 2 returns of 4 orders (the even exchange ships when its return arrives)
    assert (figures.returns, figures.exchanges, figures.orders) == (2, 1, 4)
    assert figures.refunded == {"USD": Decimal("20.0000")}
    assert figures.receipt_to_refund_hours == [3.0]
    assert cards["Return rate"] == "50.0%"
    assert cards["Refunded"] == "20.00 USD"
    assert cards["Receipt → refund p50"] == "3.0 h"
    assert cards["Exchange share"] == "50.0%"
    # A range that holds a later refund of the return but not its first one does not time it.
    Refund.objects.create(
        rma=refund.rma,
        order=refund.order,
        kind=refund.kind,
        amount=Decimal("1.00"),
        currency="USD",
        status=refund.status,
        refunded_at=refund.refunded_at + timedelta(days=3),
        idempotency_key=f"{refund.idempotency_key}-later",
    )
    later = refund.refunded_at + timedelta(days=2)
    assert return_figures(later, later + timedelta(days=2)).receipt_to_refund_hours == []
    assert return_figures(now - timedelta(days=1), later).receipt_to_refund_hours == [3.0]


def test_the_dashboard_breaks_returns_down_per_channel(nodes, django_capture_on_commit_callbacks):
    # given: two web orders, one returned and refunded 2 h after receipt; two POS orders
    web = [
        shipped_order(nodes["dc"], external_id=f"W{i}", lines=[("TEE", 1, "20.00")])
        for i in range(2)
    ]
    pos = ChannelFactory(code="pos")
    for i in range(2):
        captured_order(channel=pos, external_id=f"P{i}", skus=["TEE"], placed_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        rma = request_return(
            order_id=web[0].pk,
            request=ReturnRequest(lines=[RequestedLine(1, 1, "size_fit")], authorize=True),
            actor=SYSTEM,
        )
        receive_return(return_id=rma.pk, node_id=nodes["dc"].pk, actor=SYSTEM)
        inspect_return(return_id=rma.pk, dispositions={1: {"restock": 1}}, actor=SYSTEM)
    refund = Refund.objects.get()
    Return.objects.filter(pk=rma.pk).update(received_at=refund.refunded_at - timedelta(hours=2))

    # when
    kpi = build_dashboard()

    # then: one row per channel with orders, then all channels
    rows = {row["channel"]: row["cells"] for row in kpi["return_channel_rows"]}
    assert kpi["return_channel_headers"] == [
        "Orders",
        "Returns",
        "Return rate",
        "Refunded",
        "Receipt → refund p50",
    ]
    assert list(rows) == ["pos", "web", "All channels"]
    assert rows["web"] == ["2", "1", "50.0%", "20.00 USD", "2.0 h"]
    assert rows["pos"] == ["2", "0", "0.0%", "0", "–"]
    assert rows["All channels"] == ["4", "1", "25.0%", "20.00 USD", "2.0 h"]
