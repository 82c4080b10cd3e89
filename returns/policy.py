"""Return policies as versioned, validated data, and the checks a new return must pass.

A policy version is never edited: a change is a new version (`create_return_policy`), and each
return keeps the version it was accepted under, so its refund is computed by the terms the
customer was given. `policy_for(channel)` is the newest active version of the channel's own
policy, else of the default (no channel). `check_return()` explains every refusal in words
with the numbers it used (`return_window_closed`, `sku_not_returnable`, ...).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Max, Sum

from fulfillment.models import FulfillmentOrderLine
from fulfillment.models.fulfillment_orders import FINISHED_STATUSES
from oms.core.actors import Actor
from oms.core.errors import DomainError, FieldError, InvalidInput
from orders.models import Channel, Order, OrderLine
from returns.models import (
    LIVE_RETURN_STATUSES,
    ReturnLine,
    ReturnPolicy,
    ShippingPaidBy,
    ShippingRefundRule,
)

ROLES = ("customer_service", "finance", "ops_admin", "api_client")
MAX_WINDOW_DAYS = 365


class NoReturnPolicy(DomainError):
    def __init__(self, channel: Channel) -> None:
        super().__init__(
            code="no_return_policy",
            detail=f"No active return policy applies to channel {channel.code}.",
            http_status=409,
        )


def policy_for(channel: Channel) -> ReturnPolicy:
    """The newest active version of the channel's policy, else of the default policy."""
    for scope in ({"channel": channel}, {"channel__isnull": True}):
        policy = (
            ReturnPolicy.objects.filter(is_active=True, **scope)
            .select_related("channel")
            .order_by("-version")
            .first()
        )
        if policy is not None:
            return policy
    raise NoReturnPolicy(channel)


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, float):
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return amount if amount.is_finite() else None


def validate_policy_terms(terms: dict[str, Any]) -> list[FieldError]:
    """Every problem with the terms of a policy version, each with its field."""
    errors: list[FieldError] = []

    def bad(field: str, detail: str) -> None:
        errors.append(FieldError("invalid_policy", detail, field))

    window = terms.get("window_days", 30)
    if not isinstance(window, int) or isinstance(window, bool) or not 0 <= window <= 365:
        bad(
            "window_days",
            f"window_days must be a whole number of days from 0 to {MAX_WINDOW_DAYS}.",
        )
    skus = terms.get("non_returnable_skus", [])
    if not isinstance(skus, list) or not all(isinstance(s, str) and s.strip() for s in skus):
        bad("non_returnable_skus", "non_returnable_skus must be a list of SKUs.")
    fee = _decimal(terms.get("restocking_fee_percent", "0"))
    if fee is None or not Decimal(0) <= fee <= Decimal(100) or fee != fee.quantize(Decimal("0.01")):
        bad(
            "restocking_fee_percent", "restocking_fee_percent must be 0 to 100, 2 decimals at most."
        )
    if terms.get("return_shipping_paid_by", ShippingPaidBy.MERCHANT) not in ShippingPaidBy.values:
        bad(
            "return_shipping_paid_by",
            f"return_shipping_paid_by must be one of {ShippingPaidBy.values}.",
        )
    label_fee = _decimal(terms.get("return_label_fee", "0"))
    if label_fee is None or label_fee < 0:
        bad("return_label_fee", "return_label_fee must be an amount of 0 or more.")
    if (
        terms.get("shipping_refund", ShippingRefundRule.FULL_RETURN)
        not in ShippingRefundRule.values
    ):
        bad("shipping_refund", f"shipping_refund must be one of {ShippingRefundRule.values}.")
    if not isinstance(terms.get("refund_before_receipt", False), bool):
        bad("refund_before_receipt", "refund_before_receipt must be true or false.")
    advance = terms.get("advance_exchange_days", 14)
    if not isinstance(advance, int) or isinstance(advance, bool) or not 1 <= advance <= 90:
        bad("advance_exchange_days", "advance_exchange_days must be 1 to 90.")
    limits = terms.get("appeasement_limits", {})
    if not isinstance(limits, dict):
        bad("appeasement_limits", "appeasement_limits must map a role to an amount.")
    else:
        for role, amount in limits.items():
            value = _decimal(amount)
            if role not in ROLES:
                bad(f"appeasement_limits.{role}", f"Unknown role {role!r}; roles: {list(ROLES)}.")
            elif value is None or value < 0:
                bad(f"appeasement_limits.{role}", "A limit is an amount of 0 or more.")
    unknown = set(terms) - {
        "window_days",
        "non_returnable_skus",
        "restocking_fee_percent",
        "return_shipping_paid_by",
        "return_label_fee",
        "shipping_refund",
        "refund_before_receipt",
        "advance_exchange_days",
        "appeasement_limits",
        "note",
    }
    for name in sorted(unknown):
        bad(name, f"Unknown policy term {name!r}.")
    return errors


def create_return_policy(
    *, channel: Channel | None, terms: dict[str, Any], actor: Actor
) -> ReturnPolicy:
    """A new version of the channel's (or the default) policy; it applies to new returns from
    now on. Refuses invalid terms with `validation_failed` (400) listing each problem."""
    errors = validate_policy_terms(terms)
    if errors:
        raise InvalidInput(errors, detail="The return policy is not valid.")
    with transaction.atomic():
        scope = ReturnPolicy.objects.select_for_update(of=("self",)).filter(
            **({"channel": channel} if channel else {"channel__isnull": True})
        )
        last = scope.aggregate(last=Max("version"))["last"] or 0
        return ReturnPolicy.objects.create(
            channel=channel,
            version=last + 1,
            window_days=terms.get("window_days", 30),
            non_returnable_skus=sorted(
                {s.strip().upper() for s in terms.get("non_returnable_skus", [])}
            ),
            restocking_fee_percent=Decimal(str(terms.get("restocking_fee_percent", "0"))),
            return_shipping_paid_by=terms.get("return_shipping_paid_by", ShippingPaidBy.MERCHANT),
            return_label_fee=Decimal(str(terms.get("return_label_fee", "0"))),
            shipping_refund=terms.get("shipping_refund", ShippingRefundRule.FULL_RETURN),
            refund_before_receipt=terms.get("refund_before_receipt", False),
            advance_exchange_days=terms.get("advance_exchange_days", 14),
            appeasement_limits={k: str(v) for k, v in terms.get("appeasement_limits", {}).items()},
            note=str(terms.get("note", ""))[:300],
            created_by=actor.label,
        )


# --- what may be returned ---------------------------------------------------------------------


@dataclass(frozen=True)
class Returnable:
    line: OrderLine
    shipped: int
    in_returns: int
    shipped_at: datetime | None

    @property
    def remaining(self) -> int:
        return max(self.shipped - self.in_returns, 0)


def returnable_lines(order: Order) -> dict[int, Returnable]:
    """Per order line: units shipped or picked up, units already in live returns, and when
    the line last reached the customer (delivered, picked up, else shipped)."""
    shipped: dict[int, int] = {}
    reached: dict[int, datetime | None] = {}
    for fol in FulfillmentOrderLine.objects.filter(
        fulfillment__order_id=order.pk, fulfillment__status__in=FINISHED_STATUSES
    ).select_related("fulfillment"):
        fo = fol.fulfillment
        units = fol.shipped_quantity or (fol.quantity - fol.short_quantity)
        shipped[fol.order_line_id] = shipped.get(fol.order_line_id, 0) + units
        when = fo.delivered_at or fo.picked_up_at or fo.shipped_at
        previous = reached.get(fol.order_line_id)
        if when is not None and (previous is None or when > previous):
            reached[fol.order_line_id] = when
    in_returns = dict(
        ReturnLine.objects.filter(
            order_line__order_id=order.pk, rma__status__in=LIVE_RETURN_STATUSES
        )
        .values("order_line_id")
        .annotate(n=Sum("quantity"))
        .values_list("order_line_id", "n")
    )
    return {
        line.pk: Returnable(
            line=line,
            shipped=shipped.get(line.pk, 0),
            in_returns=in_returns.get(line.pk, 0),
            shipped_at=reached.get(line.pk),
        )
        for line in order.lines.all().order_by("line_number")
    }


@dataclass(frozen=True)
class RequestedLine:
    line_number: int
    quantity: int
    reason_code: str
    condition: str = "unknown"
    exchange_sku: str = ""  # an exchange for another variant at the same price ("" = same SKU)


def check_return(
    *,
    order: Order,
    policy: ReturnPolicy,
    lines: list[RequestedLine],
    now: datetime,
    enforce_window: bool = True,
    assume_shipped: bool = False,
) -> tuple[dict[int, Returnable], list[FieldError]]:
    """The order's returnable lines and every reason the request is refused, explained.

    `enforce_window=False` is for returns the system starts itself (a parcel back to sender,
    a cancel refused because it shipped): the customer never had it, no window applies.
    `assume_shipped`: the node said the units shipped before its shipping message reached us
    (a refused cancellation), so the whole line counts as shipped."""
    returnable = returnable_lines(order)
    if assume_shipped:
        returnable = {
            pk: Returnable(r.line, r.line.quantity, r.in_returns, r.shipped_at)
            for pk, r in returnable.items()
        }
    by_number = {r.line.line_number: r for r in returnable.values()}
    errors: list[FieldError] = []
    seen: set[int] = set()
    scope = "default" if policy.channel is None else policy.channel.code
    label = f"policy {scope} v{policy.version}"
    if not lines:
        errors.append(FieldError("empty_return", "A return needs at least one line.", "lines"))
    for index, requested in enumerate(lines):
        path = f"lines[{index}]"
        item = by_number.get(requested.line_number)
        if item is None:
            errors.append(
                FieldError(
                    "unknown_line",
                    f"Order {order.number} has no line {requested.line_number}.",
                    f"{path}.line_number",
                )
            )
            continue
        if requested.line_number in seen:
            errors.append(
                FieldError("duplicate_line", "Each line once per return.", f"{path}.line_number")
            )
            continue
        seen.add(requested.line_number)
        sku = item.line.sku.upper()
        if sku in {s.upper() for s in policy.non_returnable_skus}:
            errors.append(
                FieldError(
                    "sku_not_returnable",
                    f"{item.line.sku} cannot be returned ({label}).",
                    f"{path}.line_number",
                )
            )
            continue
        if item.shipped == 0:
            errors.append(
                FieldError(
                    "line_not_shipped",
                    f"Line {requested.line_number} ({item.line.sku}) has not shipped yet: "
                    "cancel it instead.",
                    f"{path}.line_number",
                )
            )
            continue
        if requested.quantity > item.remaining:
            errors.append(
                FieldError(
                    "quantity_exceeds_returnable",
                    f"Line {requested.line_number}: {requested.quantity} asked, {item.remaining} "
                    f"returnable ({item.shipped} shipped, {item.in_returns} already in returns).",
                    f"{path}.quantity",
                )
            )
        if enforce_window and item.shipped_at is not None:
            closes = item.shipped_at + timedelta(days=policy.window_days)
            if now > closes:
                errors.append(
                    FieldError(
                        "return_window_closed",
                        f"Line {requested.line_number} reached the customer on "
                        f"{item.shipped_at:%Y-%m-%d}; the {policy.window_days}-day return window "
                        f"({label}) closed on {closes:%Y-%m-%d}.",
                        f"{path}.line_number",
                    )
                )
    return returnable, errors


def appeasement_roles_of(user: Any) -> list[str]:
    """The appeasement roles of a staff user (the limits `appease()` applies): their groups
    that name a role; a superuser has every role."""
    if user.is_superuser:
        return list(ROLES)
    return [name for name in user.groups.values_list("name", flat=True) if name in ROLES]


def appeasement_limit(policy: ReturnPolicy, roles: list[str]) -> Decimal:
    """The highest limit among the caller's roles (0 when none of them has one)."""
    limits = [
        Decimal(str(policy.appeasement_limits[r])) for r in roles if r in policy.appeasement_limits
    ]
    return max(limits, default=Decimal("0"))
