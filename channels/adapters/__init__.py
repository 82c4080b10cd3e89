"""Platform adapters; each registers itself on import (channels/adapters/base.py)."""

from channels.adapters import amazon, commercetools, magento, shopify, woocommerce, x12  # noqa: F401
from channels.adapters.base import adapter_for, register_adapter

__all__ = ["adapter_for", "register_adapter"]
