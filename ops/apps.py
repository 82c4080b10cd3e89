from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    label = "ops"
    verbose_name = "Operations and finance"

    def ready(self) -> None:
        from oms.observability.metrics import register_state_collector  # noqa: PLC0415
        from ops import (
            channel_handlers,  # noqa: F401, PLC0415 - dead calls to sales platforms
            erp_handlers,  # noqa: F401, PLC0415 - documents the ERP never took
            events,  # noqa: F401, PLC0415 - registers the event types
            handlers,  # noqa: F401, PLC0415 - turns domain events into cases
        )
        from ops.metrics import StateCollector  # noqa: PLC0415

        register_state_collector(StateCollector())
