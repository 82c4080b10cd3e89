"""Admin for the orders app's configuration: channels and API clients. The order page itself
(orders, lines, holds) is the console's and lives in ops/admin/orders.py, above fulfillment,
whose routing and fulfillment panels it shows."""

from orders.admin.channels import ApiClientAdmin, ChannelAdmin

__all__ = ["ApiClientAdmin", "ChannelAdmin"]
