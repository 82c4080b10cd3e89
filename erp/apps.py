from django.apps import AppConfig


class ErpConfig(AppConfig):
    name = "erp"
    label = "erp"
    verbose_name = "ERP connector"

    def ready(self) -> None:
        # Event types and the handlers that queue an invoice per shipment and a credit memo
        # per refund register themselves on import.
        from erp import events, handlers  # noqa: F401, PLC0415
