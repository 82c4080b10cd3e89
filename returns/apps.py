from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "returns"
    verbose_name = "Returns"

    def ready(self) -> None:
        from oms.core.returns_desk import register_returns_desk  # noqa: PLC0415
        from returns import (
            events,  # noqa: F401, PLC0415 - registers the event types
            handlers,  # noqa: F401, PLC0415 - returns from carriers and refused cancellations
        )
        from returns.desk import StoreReturnsDesk  # noqa: PLC0415

        register_returns_desk(StoreReturnsDesk())
