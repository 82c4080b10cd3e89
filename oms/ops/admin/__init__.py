"""The exception console: cases (a queue per team, SLA flags, remedies as actions), queues and
exception rule sets. Every action calls a service in oms/ops/services."""

from oms.ops.admin import cases, rulesets  # noqa: F401 - registers the admin classes
