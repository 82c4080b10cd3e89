from django.apps import AppConfig
from django.urls import register_converter

from oms.api import schema_extensions  # noqa: F401  # drf-spectacular extensions register on import
from oms.api.converters import IdConverter, ReferenceConverter


class ApiConfig(AppConfig):
    name = "oms.api"
    label = "api"
    verbose_name = "API"

    def ready(self) -> None:
        # Before any URLconf is loaded: the API's urls.py use `<ref:...>` and `<id:...>`.
        register_converter(ReferenceConverter, "ref")
        register_converter(IdConverter, "id")
