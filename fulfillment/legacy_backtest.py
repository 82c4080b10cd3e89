"""`backtest_rules --against legacy`: a port. The comparison with the legacy system's decisions
needs the mirrored legacy orders, which live in the migration app, a higher layer that
fulfillment must not import (docs/adr/0005-layers.md); the migration app registers its runner
here when it loads (`MigrationConfig.ready()`), as it does for order ownership
(orders/ownership.py). Without a runner the command says the comparison is not available.
"""

from collections.abc import Callable
from datetime import datetime

# (rule set id, period from, period to) → the report's lines
Runner = Callable[[int, datetime, datetime], list[str]]
_runner: Runner | None = None


def register_legacy_backtest(runner: Runner | None) -> None:
    """Install the one runner (the migration app's); None removes it."""
    global _runner
    _runner = runner


def legacy_backtest_runner() -> Runner | None:
    return _runner
