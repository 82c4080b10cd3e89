from django.apps import AppConfig


class FulfillmentConfig(AppConfig):
    name = "fulfillment"
    verbose_name = "Fulfillment"

    def ready(self) -> None:
        # Event types and node connectors register themselves on import.
        from fulfillment import (
            events,  # noqa: F401
            handlers,  # noqa: F401 - reacts to orders' and inventory's events
        )

        # Logged inbound messages that can be applied again (integrations/inbound.py): a 945
        # from a file is retried automatically; a node API message was answered, so only a
        # person re-processes it. A carrier's tracking update was answered 200 even when
        # refused (the carrier will not resend it), so it is retried automatically too.
        from fulfillment.api.node_messages import ACTIONS, reprocess_node_message
        from fulfillment.connectors import simulated  # noqa: F401

        # The ready notice's pickup code is added to the webhook at send time, never stored in
        # the event (docs/security.md, "Pickup codes").
        from fulfillment.events import FULFILLMENT_READY
        from fulfillment.services.feedback import pickup_code_for_notice
        from fulfillment.services.shipping import TRACKING_KIND, reprocess_tracking
        from fulfillment.x12 import connector as x12_connector  # noqa: F401
        from fulfillment.x12.inbox import KIND, reprocess_advice

        # A file node's stock report (846) is applied as an inventory snapshot (x12/stock.py).
        from fulfillment.x12.sets import register_set_handler
        from fulfillment.x12.stock import apply_inventory_advice
        from integrations.inbound import register_handler
        from oms.events.outbound import register_addition

        register_set_handler("846", apply_inventory_advice)
        register_addition(FULFILLMENT_READY, pickup_code_for_notice)
        register_handler(KIND, reprocess_advice, retry=True)
        register_handler(TRACKING_KIND, reprocess_tracking, retry=True)
        for action in ACTIONS:
            register_handler(action.kind, reprocess_node_message)
