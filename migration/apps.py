from django.apps import AppConfig


class MigrationConfig(AppConfig):
    name = "migration"
    label = "migration"
    verbose_name = "Migration: legacy imports and cutover"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from migration import (
            events,  # noqa: F401, PLC0415 - registers the event types
            handlers,  # noqa: F401, PLC0415 - shadow planning and handoffs to the legacy system
        )
        from migration.services.cutover import owner_for  # noqa: PLC0415
        from orders.ownership import register_owner_resolver  # noqa: PLC0415

        # Capture asks who owns each new order (orders/ownership.py): the channel's cutover plan.
        register_owner_resolver(owner_for)

        from fulfillment.legacy_backtest import register_legacy_backtest  # noqa: PLC0415
        from migration.services.legacy_backtest import legacy_backtest_lines  # noqa: PLC0415

        # `backtest_rules --against legacy` compares with the mirrored legacy decisions.
        register_legacy_backtest(legacy_backtest_lines)
