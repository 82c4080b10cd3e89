from django.apps import AppConfig


class FulfillmentConfig(AppConfig):
    name = "fulfillment"
    verbose_name = "Fulfillment"

    def ready(self) -> None:
        # Event types and node connectors register themselves on import.
        from fulfillment import events  # noqa: F401
        from fulfillment.connectors import (
            simulated,  # noqa: F401
            x12_file,  # noqa: F401
        )
