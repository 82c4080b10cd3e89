from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "oms.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        # Celery signal receivers that carry the correlation id into tasks (infrastructure only).
        from oms.core import process_tuning, task_context  # noqa: F401
