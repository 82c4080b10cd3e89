"""Admin for the orders app. Orders, lines and holds are read-only: they change through the
services in orders/services/, which the admin's actions call (see oms/core/admin_actions.py)."""

from orders.admin.channels import ApiClientAdmin, ChannelAdmin
from orders.admin.orders import HoldAdmin, OrderAdmin

__all__ = ["ApiClientAdmin", "ChannelAdmin", "HoldAdmin", "OrderAdmin"]
