"""The migration app's models: legacy imports (imports.py) and the cutover (cutover.py)."""

from migration.models.cutover import (
    CutoverMode,
    CutoverPlan,
    HandoffStatus,
    LegacyDecision,
    LegacyHandoff,
    ShadowDecision,
)
from migration.models.imports import (
    ImportedRecord,
    ImportJob,
    JobStatus,
    ReconciliationSource,
    SkuAlias,
    StatusReconciliation,
)

__all__ = [
    "CutoverMode",
    "CutoverPlan",
    "HandoffStatus",
    "ImportJob",
    "ImportedRecord",
    "JobStatus",
    "LegacyDecision",
    "LegacyHandoff",
    "ReconciliationSource",
    "ShadowDecision",
    "SkuAlias",
    "StatusReconciliation",
]
