"""The order page's "Where is this order and why" panel (OrderAdmin.render_change_form adds
this context; templates/admin/ops/order_trace.html renders it)."""

from typing import Any

from django.http import HttpRequest

from ops.timeline import order_trace


def order_trace_context(request: HttpRequest, order: Any) -> dict[str, Any]:
    show = order is not None and request.user.has_perm("events.view_event")
    return {"show_order_trace": show, "order_trace": order_trace(order) if show else []}
