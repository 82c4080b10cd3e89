from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Inventory"

    def ready(self) -> None:
        # Event types register themselves on import. Refused feeds are kept as inbound messages
        # (inventory/services/feeds_inbound.py); the sender was answered, so only a person
        # re-processes them (no automatic retry).
        from integrations.inbound import register_handler
        from inventory import events  # noqa: F401 - registers the event types
        from inventory.services.feeds import reprocess_feed_message
        from inventory.services.feeds_inbound import KINDS

        for kind in KINDS:
            register_handler(kind, reprocess_feed_message)
