from fulfillment.models import RoutingDecision, RoutingRuleSet, RuleSetStatus


def active_rule_set_for(channel_id: int | None) -> RoutingRuleSet | None:
    """The channel's own active set, else the default (channel-less) active set, else None
    (routing then uses the built-in defaults of fulfillment.rules.RuleConfig)."""
    active = {
        rs.channel_id: rs
        for rs in RoutingRuleSet.objects.filter(status=RuleSetStatus.ACTIVE).filter(
            channel_id__in=[channel_id] if channel_id else []
        )
        | RoutingRuleSet.objects.filter(status=RuleSetStatus.ACTIVE, channel__isnull=True)
    }
    return active.get(channel_id) or active.get(None)


def decisions_for_order(order_id: int) -> list[RoutingDecision]:
    return list(
        RoutingDecision.objects.filter(order_id=order_id).select_related("rule_set").order_by("id")
    )
