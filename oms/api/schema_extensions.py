"""drf-spectacular extensions, registered when oms.api loads (apps.py)."""

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension


class StrictInputSerializerExtension(OpenApiSerializerExtension):
    """A strict input serializer refuses undeclared keys: say so in its request schema
    (`additionalProperties: false`), so clients and schemathesis know."""

    target_class = "oms.api.serializers.StrictInputSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: Any) -> Any:
        schema = auto_schema._map_basic_serializer(self.target, direction)
        if not vars(type(self.target)).get("__doc__"):
            schema.pop("description", None)  # not the base class's docstring, inherited
        if direction == "request":
            schema["additionalProperties"] = False
        return schema
