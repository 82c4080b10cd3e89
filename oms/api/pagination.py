from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request


class CreatedCursorPagination(CursorPagination):
    """Stable cursor pages, newest first; the id breaks ties between equal timestamps.

    `page_size` is 1–200; anything else is `400 validation_failed` (`invalid_page_size`), not
    silently the default. A cursor that does not decode is DRF's `404 not_found`."""

    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (len(raw) <= 3 and raw.isascii() and raw.isdigit()) or not (
            1 <= int(raw) <= self.max_page_size
        ):
            raise ValidationError(
                {
                    "page_size": [
                        f"A whole number from 1 to {self.max_page_size}.",
                    ]
                },
                code="invalid_page_size",
            )
        return int(raw)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                }
        return parameters
