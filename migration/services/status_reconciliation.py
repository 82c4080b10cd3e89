"""Order status reconciliation during dual running: oms's order statuses against a legacy
status feed.

`reconcile_order_statuses()` reads one feed file through an `order_statuses` mapping (legacy
order id, channel, legacy status mapped to oms status(es); a map value may list several oms
statuses when the legacy system's status is coarser, e.g. RELEASED → [allocated, released]),
finds each order by (channel, external id) as imports store it, and stores a
`StatusReconciliation`: orders compared, matching, differing (order number, channel, legacy id,
oms status, legacy status as read and as mapped) and the feed orders oms does not hold, with the
event `migration.statuses_reconciled`. When more orders differ than the active exception rule
set's `order_status_mismatches` (default 0, ops/rules.py: versioned and approved like the other
thresholds), it opens or refreshes one `order_status_mismatch` case per differing order; an
open case whose order a later comparison finds matching is resolved (`condition_cleared`).

Nothing about an order changes: reading the same feed again stores another comparison and
refreshes the same cases. Rows that cannot be compared (an unmapped status, a status that is not
an oms order status, a missing column, an order listed twice) are report lines with their
source line, never a traceback.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction

from migration.events import STATUSES_RECONCILED, stream_for_status_reconciliation
from migration.mapping.extract import Extractor, RowError
from migration.mapping.schema import Mapping
from migration.models import StatusReconciliation
from migration.services.report import Report
from migration.services.runs import clean_records
from oms.core.actors import Actor
from oms.events.services import record_event
from ops.locks import lock_case
from ops.models import OPEN_CASE_STATUSES, ExceptionCase, ExceptionKind, SubjectType
from ops.selectors import current_thresholds
from ops.services.cases import raise_exception_case, resolve_cleared_case
from orders.models import Channel, Order, OrderStatus

SYSTEM = Actor.system("reconcile_order_statuses")
BATCH = 500  # feed rows looked up in oms at a time
OMS_STATUSES = frozenset(OrderStatus.values)


@dataclass(frozen=True)
class FeedStatus:
    line: int
    channel: str
    order_id: str
    legacy_status: str  # as the feed says it
    statuses: tuple[str, ...]  # the oms statuses it maps to (any one matches)


@dataclass
class StatusReconciliationResult:
    reconciliation: StatusReconciliation
    report: Report
    cases_raised: list[int] = field(default_factory=list)
    cases_resolved: list[int] = field(default_factory=list)

    def summary_lines(self) -> list[str]:
        run = self.reconciliation
        lines = [
            f"status reconciliation #{run.pk} {run.source} on {run.input_name}",
            f"records read {self.report.records}, refused {self.report.refused}",
            f"orders compared {run.compared}, matching {run.matching}, differing "
            f"{run.mismatched} (cases above {run.case_threshold}), not in oms {run.missing}",
        ]
        lines += [
            f"  {m['order_number']} ({m['channel']} {m['legacy_id']}): oms {m['oms_status']}, "
            f"legacy {m['legacy_status']}"
            for m in run.mismatches
        ]
        lines += [f"  not in oms: {m['channel']} {m['legacy_id']}" for m in run.not_in_oms]
        for code, count in sorted(self.report.error_counts.items()):
            lines.append(f"  {code}: {count}")
        lines.append(
            f"cases raised or refreshed {len(self.cases_raised)}, "
            f"resolved {len(self.cases_resolved)}"
        )
        return lines

    def figures(self) -> dict[str, Any]:
        run = self.reconciliation
        return {
            "status_reconciliation": run.pk,
            "source": run.source,
            "input": run.input_name,
            "compared": run.compared,
            "matching": run.matching,
            "mismatched": run.mismatched,
            "not_in_oms": run.not_in_oms,
            "case_threshold": run.case_threshold,
            "mismatches": run.mismatches,
            "cases_raised": self.cases_raised,
            "cases_resolved": self.cases_resolved,
            "read": self.report.as_dict(),
        }


def read_feed(mapping: Mapping, input_path: Path, report: Report) -> Iterator[FeedStatus]:
    """Each readable feed row; refused rows go to the report with their line."""
    extractor = Extractor(mapping)
    seen: set[tuple[str, str]] = set()
    for item, record in clean_records(mapping, input_path, report, extractor):
        fields = record.fields
        channel, order_id = str(fields["channel"]), str(fields["order_id"])
        mapped = fields["status"]
        statuses = tuple(str(s) for s in (mapped if isinstance(mapped, list) else [mapped]))
        unknown = [s for s in statuses if s not in OMS_STATUSES]
        if unknown or not statuses:
            report.refuse(
                [
                    RowError(
                        record.line,
                        "unknown_status",
                        "status",
                        "maps to no oms order status",
                        ",".join(unknown),
                    )
                ]
            )
            continue
        if (channel, order_id) in seen:
            report.duplicates_in_file += 1
            report.refuse(
                [
                    RowError(
                        record.line,
                        "duplicate_in_file",
                        "order_id",
                        "listed twice",
                        f"{channel}/{order_id}",
                    )
                ]
            )
            continue
        seen.add((channel, order_id))
        column = _status_column(mapping)
        raw = item.data.get(column) if column else None
        report.created += 1
        yield FeedStatus(
            line=record.line,
            channel=channel,
            order_id=order_id,
            legacy_status=str(raw).strip() if raw is not None else "/".join(statuses),
            statuses=statuses,
        )
    for (name, value), count in extractor.unmapped.items():
        report.unmapped[name][value] += count


def _status_column(mapping: Mapping) -> str:
    spec = mapping.fields["status"]
    return spec.from_ if isinstance(spec.from_, str) else ""


def _batches(rows: Iterator[FeedStatus]) -> Iterator[list[FeedStatus]]:
    batch: list[FeedStatus] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def compare(
    rows: Iterator[FeedStatus],
) -> tuple[int, list[dict[str, Any]], list[dict[str, Any]], list[int], list[int]]:
    """(compared, mismatches, not in oms, ids of differing orders, ids of matching orders)."""
    channels: dict[str, int] = dict(Channel.objects.values_list("code", "pk"))
    compared = 0
    mismatches: list[dict[str, Any]] = []
    missing: list[dict[str, Any]] = []
    differing: list[int] = []
    matching: list[int] = []
    for batch in _batches(rows):
        found = {
            (channel_id, external_id): (pk, number, status)
            for pk, channel_id, external_id, number, status in Order.objects.filter(
                channel_id__in={channels[r.channel] for r in batch if r.channel in channels},
                external_id__in={r.order_id for r in batch},
            ).values_list("pk", "channel_id", "external_id", "number", "status")
        }
        for row in batch:
            hit = found.get((channels.get(row.channel, 0), row.order_id))
            if hit is None:
                missing.append(
                    {"channel": row.channel, "legacy_id": row.order_id, "line": row.line}
                )
                continue
            pk, number, status = hit
            compared += 1
            if status in row.statuses:
                matching.append(pk)
                continue
            differing.append(pk)
            mismatches.append(
                {
                    "order_number": number,
                    "channel": row.channel,
                    "legacy_id": row.order_id,
                    "oms_status": status,
                    "legacy_status": row.legacy_status,
                    "legacy_as_oms": list(row.statuses),
                    "line": row.line,
                }
            )
    return compared, mismatches, missing, differing, matching


def reconcile_order_statuses(
    *, mapping: Mapping, input_path: Path, actor: Actor = SYSTEM, source: str = ""
) -> StatusReconciliationResult:
    """One comparison of the feed in `input_path` (see the module docstring)."""
    report = Report(
        mapping=mapping.name,
        source=mapping.source,
        kind="status_reconciliation",
        input=str(input_path),
        dry_run=True,
    )
    compared, mismatches, missing, differing, matching = compare(
        read_feed(mapping, input_path, report)
    )
    threshold = int(current_thresholds()["order_status_mismatches"])
    with transaction.atomic():
        run = StatusReconciliation.objects.create(
            source=source or mapping.source,
            input_name=str(input_path),
            compared=compared,
            matching=compared - len(mismatches),
            mismatched=len(mismatches),
            missing=len(missing),
            case_threshold=threshold,
            mismatches=mismatches,
            not_in_oms=missing,
            report=report.as_dict(),
        )
        record_event(
            stream=stream_for_status_reconciliation(run.pk),
            type=STATUSES_RECONCILED,
            actor=actor,
            first_in_stream=True,
            payload={
                "status_reconciliation": run.pk,
                "source": run.source,
                "compared": run.compared,
                "matching": run.matching,
                "mismatched": run.mismatched,
                "not_in_oms": run.missing,
                "case_threshold": threshold,
                "refused": report.refused,
            },
        )
    result = StatusReconciliationResult(reconciliation=run, report=report)
    if len(mismatches) > threshold:
        orders = Order.objects.in_bulk(differing)
        for pk, mismatch in zip(differing, mismatches, strict=True):
            case = raise_exception_case(
                kind=ExceptionKind.ORDER_STATUS_MISMATCH,
                order=orders[pk],
                summary=(
                    f"{mismatch['order_number']} is {mismatch['oms_status']} in oms but "
                    f"{mismatch['legacy_status']} in the legacy system ({run.source})"
                ),
                details={"status_reconciliation": run.pk, **mismatch},
                actor=actor,
            )
            result.cases_raised.append(case.pk)
    result.cases_resolved = _resolve_matching(run, matching)
    return result


def _resolve_matching(run: StatusReconciliation, matching: list[int]) -> list[int]:
    """Open mismatch cases of orders this comparison found matching: resolved."""
    resolved = []
    candidates = ExceptionCase.objects.filter(
        kind=ExceptionKind.ORDER_STATUS_MISMATCH,
        subject_type=SubjectType.ORDER,
        status__in=OPEN_CASE_STATUSES,
        order_id__in=matching,
    ).values_list("pk", flat=True)
    for case_id in list(candidates):
        with transaction.atomic():
            case = lock_case(case_id)
            if not case.is_open:
                continue
            resolve_cleared_case(
                case,
                reason=f"Status reconciliation #{run.pk}: {case.subject_label} has the same "
                f"status in oms and in the legacy system",
            )
        resolved.append(case_id)
    return resolved
