from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "oms.observability"
    label = "observability"
    verbose_name = "Observability"

    def ready(self) -> None:
        # Celery's task signals fire in worker processes (which run django.setup()) and, with
        # eager tasks, in the web process.
        from oms.observability import celery_signals, checks  # noqa: F401 - registers checks

        celery_signals.connect()
