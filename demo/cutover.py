"""The cutover demo: an "outlet" web shop moving from its legacy OMS to oms.

What `make run` shows (Migration › Cutover plans, and its dashboard and shadow diff):
- plan v1 `shadow`, approved: a simulated week of the legacy system's orders mirrored in with
  its decisions (21 orders; every fifth went to another DC than oms would choose, so the
  agreement is about 80 % and each difference has its reason);
- two more mirrored orders the legacy system cancelled (one whole, one of its two lines),
  applied through the legacy cancel (`order.legacy_cancelled`) and left out of the diff;
- plan v2 `canary` at 10 %, approved, then 12 orders captured natively: those in the canary are
  routed by oms, the rest are handed to the legacy system (files in var/legacy_handoff/);
- plan v3 `canary` at 25 %, proposed and waiting for a second person's approval;
- the go/no-go check run once: the week's 81 % agreement is below the default 90 % gate, so
  the console shows a `cutover_no_go` case about the outlet (the beat keeps judging it).
Created once: a channel that already has a plan is left as it is.
"""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from demo.orders import CUSTOMERS
from inventory.models import Node, NodeKind, Product
from migration.models import CutoverPlan
from migration.services.cutover import approve_plan, propose_plan
from migration.services.go_no_go import check_cutover_thresholds
from migration.services.legacy_cancellation import LegacyLineCancel, apply_legacy_cancellation
from migration.services.shadow import LegacyAllocation, plan_shadow_order, record_legacy_decision
from oms.core.actors import Actor
from orders.models import Channel
from orders.services.capture import AddressInput, LineInput, OrderInput, capture_order

CHANNEL = "outlet"
ACTOR = Actor.system("seed_demo")


def _order(external_id: str, placed_at, customer: tuple[str, str, str, str], sku: str, **kw):
    name, postal, city, region = customer
    return OrderInput(
        external_id=external_id,
        placed_at=placed_at,
        currency="USD",
        customer_name=name,
        customer_email=f"{name.split()[0].lower()}@example.com",
        shipping_address=AddressInput(
            line1="1 Demo St", city=city, region=region, postal_code=postal, country="US"
        ),
        lines=[LineInput(sku=sku, quantity=1, unit_price=Decimal("24.00"))],
        shipping_total=Decimal("5.00"),
        **kw,
    )


def seed_cutover_demo(*, approver_username: str) -> int:
    """Returns how many orders were placed now (0 when the demo cutover exists)."""
    channel, _ = Channel.objects.get_or_create(
        code=CHANNEL,
        defaults={"name": "Outlet web shop (cutting over)", "default_currency": "USD"},
    )
    if CutoverPlan.objects.filter(channel=channel).exists():
        return 0
    approver = get_user_model().objects.get(username=approver_username)
    dcs = list(Node.objects.filter(kind=NodeKind.DISTRIBUTION_CENTER).order_by("code"))
    skus = list(
        Product.objects.filter(sku__startswith="APP-TSHIRT")
        .order_by("sku")
        .values_list("sku", flat=True)
    )[:4]
    now = timezone.now()

    shadow = propose_plan(channel_code=CHANNEL, mode="shadow", author=None)
    approve_plan(plan_id=shadow.pk, approver=approver, note="demo: shadow week")
    channel.refresh_from_db()  # capture reads the approved plan from the channel row
    placed = 0
    for n in range(21):
        # within the go/no-go window (the last 7 days) at seeding
        placed_at = now - timedelta(days=6 - n // 3, hours=n % 3 * 5)
        data = _order(
            f"LEG-{1000 + n}",
            placed_at,
            CUSTOMERS[n % len(CUSTOMERS)],
            skus[n % len(skus)],
            legacy_mirror=True,
        )
        order = capture_order(channel=channel, data=data, actor=ACTOR)
        planned = plan_shadow_order(order_id=order.pk)
        chosen = planned.allocations if planned is not None else []
        if n % 5 == 4 and chosen:  # the legacy system sent it from another DC
            other = next(d.code for d in dcs if d.code != chosen[0]["node"])
            chosen = [{**chosen[0], "node": other}]
        record_legacy_decision(
            order_id=order.pk,
            allocations=[LegacyAllocation(a["node"], a["sku"], a["quantity"]) for a in chosen],
            source="demo legacy feed",
            decided_at=placed_at + timedelta(minutes=3),
        )
        placed += 1
    # The legacy feed cancels two mirrored orders: one whole, one line of two.
    for n, cancel in ((0, None), (1, [LegacyLineCancel(skus[1], 1)])):
        data = _order(
            f"LEG-{1100 + n}",
            now - timedelta(days=3, hours=n),
            CUSTOMERS[n % len(CUSTOMERS)],
            skus[0],
            legacy_mirror=True,
        )
        data = replace(data, lines=[*data.lines, replace(data.lines[0], sku=skus[1])])
        order = capture_order(channel=channel, data=data, actor=ACTOR)
        plan_shadow_order(order_id=order.pk)
        record_legacy_decision(
            order_id=order.pk,
            allocations=[LegacyAllocation(dcs[0].code, sku, 1) for sku in skus[:2]],
            source="demo legacy feed",
        )
        apply_legacy_cancellation(
            order_id=order.pk, actor=ACTOR, source="demo legacy feed", lines=cancel
        )
        placed += 1

    canary = propose_plan(channel_code=CHANNEL, mode="canary", share_percent="10", author=None)
    approve_plan(plan_id=canary.pk, approver=approver, note="demo: canary 10 %")
    channel.refresh_from_db()
    for n in range(12):
        data = _order(
            f"OUT-{2000 + n}",
            now - timedelta(hours=12 - n),
            CUSTOMERS[(n + 5) % len(CUSTOMERS)],
            skus[n % len(skus)],
        )
        capture_order(channel=channel, data=data, actor=ACTOR)
        placed += 1
    propose_plan(channel_code=CHANNEL, mode="canary", share_percent="25", author=None)
    check_cutover_thresholds(actor=ACTOR)
    return placed
