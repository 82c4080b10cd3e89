from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "channels"
    label = "channels"
    verbose_name = "Sales channels"

    def ready(self) -> None:
        # Event types, platform adapters, the outbound subscriptions and the inbound re-process
        # handler register themselves on import.
        from channels import adapters, events, handlers  # noqa: F401, PLC0415
        from channels.services.inbound import (  # noqa: PLC0415
            KIND,
            REFETCH_KIND,
            reprocess_platform_order,
        )
        from channels.services.outbound import platform_refunds  # noqa: PLC0415
        from integrations.inbound import register_handler  # noqa: PLC0415
        from orders.payments.held import register_platform_refunds  # noqa: PLC0415

        # A refused platform order waits for a person who fixed the catalogue or the mapping:
        # the platform was answered (200, refused) and will not send it again. A notice whose
        # order could not be read from the platform is retried automatically.
        register_handler(KIND, reprocess_platform_order)
        register_handler(REFETCH_KIND, reprocess_platform_order, retry=True)
        handlers.subscribe()
        # An order paid at a platform that refunds it back is refundable in oms (ADR 14).
        register_platform_refunds(platform_refunds)
