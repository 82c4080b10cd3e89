from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "returns"
    verbose_name = "Returns"

    def ready(self) -> None:
        from fulfillment.x12.sets import register_set_handler  # noqa: PLC0415
        from integrations.inbound import register_handler  # noqa: PLC0415
        from oms.core.returns_desk import register_returns_desk  # noqa: PLC0415
        from returns import (
            events,  # noqa: F401, PLC0415 - registers the event types
            handlers,  # noqa: F401, PLC0415 - returns from carriers and refused cancellations
        )
        from returns.desk import StoreReturnsDesk  # noqa: PLC0415
        from returns.x12 import KIND, apply_receipt_advice, reprocess_receipt  # noqa: PLC0415

        register_returns_desk(StoreReturnsDesk())
        # A return received at an X12 file node: its 944 in the inbox, and again from the log.
        register_set_handler("944", apply_receipt_advice)
        register_handler(KIND, reprocess_receipt, retry=True)
