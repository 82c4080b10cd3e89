from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "oms.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        # Celery signal receivers that carry the correlation id into tasks (infrastructure only).
        # The system check of the browser-only middleware chain.
        from oms.core import (  # noqa: F401
            browser,  # noqa: F401
            process_tuning,
            task_context,
        )
