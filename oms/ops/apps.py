from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "oms.ops"
    label = "ops"
    verbose_name = "Operations: exceptions"

    def ready(self) -> None:
        from oms.ops import events  # noqa: F401, PLC0415 - registers the event types
