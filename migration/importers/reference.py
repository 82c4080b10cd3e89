"""Kinds that are read and checked but not written in part 1: status code lists (checked
against an order mapping's status map), legacy allocations, shipments and cancellations (each
checked against the orders imported from the same source)."""

from pathlib import Path

from migration.importers.base import Importer
from migration.mapping.extract import CanonicalRecord, RowError
from migration.mapping.schema import load_mapping
from migration.models import ImportedRecord


class StatusCodeImporter(Importer):
    def key(self, record: CanonicalRecord) -> str:
        return str(record.fields["code"])

    def check(self, record: CanonicalRecord) -> list[RowError]:
        check = self.mapping.options.check_map
        if check is None:
            return []
        if not hasattr(self, "_values"):
            other = load_mapping(
                Path(__file__).resolve().parent.parent / "mappings" / check.mapping
            )
            spec = other.maps[check.map]
            self._values = {str(k).casefold() for k in spec.values}
        code = str(record.fields["code"])
        if code.casefold() not in self._values:
            self.report.unmapped[f"{check.mapping}:{check.map}"][
                f"{code} {record.fields['name']}"
            ] += 1
            return [
                self.err(
                    record,
                    "unmapped_status",
                    "code",
                    f"{check.mapping} does not map {record.fields['name']!r}",
                    code,
                )
            ]
        return []


class OrderReferenceImporter(Importer):
    """allocations / shipments / cancellations: the order they name must have been imported."""

    order_field = "order_id"

    def key(self, record: CanonicalRecord) -> str:
        return record.source_id or f"{record.fields[self.order_field]}/{record.line}"

    def check(self, record: CanonicalRecord) -> list[RowError]:
        order_id = str(record.fields[self.order_field])
        known = ImportedRecord.objects.filter(
            source=self.mapping.source, kind="orders", source_id=order_id
        ).exists()
        if not known:
            return [
                self.err(
                    record,
                    "unknown_order",
                    self.order_field,
                    "no order with this id was imported from this source",
                    order_id,
                )
            ]
        return []


class CancellationImporter(OrderReferenceImporter):
    order_field = "order_key"
