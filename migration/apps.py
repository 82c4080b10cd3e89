from django.apps import AppConfig


class MigrationConfig(AppConfig):
    name = "migration"
    label = "migration"
    verbose_name = "Migration: legacy imports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from migration import events  # noqa: F401, PLC0415 - registers the event types
