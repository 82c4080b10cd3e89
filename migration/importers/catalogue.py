"""Products (with aliases), nodes (kind, capabilities, coordinates from the postal code when the
source has none) and opening stock (inventory's set_initial_stock: adjustment movements)."""

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from inventory.models import Node, NodeKind, Product, StockLevel, normalize_sku, normalize_upc
from inventory.services.ledger import InitialStock, set_initial_stock
from migration.importers.base import Importer
from migration.mapping.extract import CanonicalRecord, RowError
from migration.models import SkuAlias
from oms.core.errors import FieldError, InvalidInput
from oms.core.geo import resolve_postal_code

CAPABILITIES = {"ship", "pickup", "curbside", "ship_from_store", "returns"}
_SIX = Decimal("0.000001")


class ProductResolver:
    """SKU -> product, through SKU aliases, remembering what a dry run would create."""

    def __init__(self, create_missing: bool) -> None:
        self.create_missing = create_missing
        self.planned: set[str] = set()
        self.cache: dict[str, Product] = {}

    def find(self, sku: str) -> Product | None:
        sku = normalize_sku(sku)
        if sku in self.cache:
            return self.cache[sku]
        product = Product.objects.filter(sku=sku).first()
        if product is None:
            alias = SkuAlias.objects.filter(alias=sku).select_related("product").first()
            product = alias.product if alias else None
        if product is not None:
            self.cache[sku] = product
        return product

    def ensure(self, sku: str, name: str, *, dry_run: bool) -> Product | None:
        product = self.find(sku)
        if product is not None or not self.create_missing:
            return product
        if dry_run:
            self.planned.add(normalize_sku(sku))
            return None
        product = Product.objects.create(sku=sku, name=(name or sku)[:255])
        self.cache[product.sku] = product
        return product

    def forget(self) -> None:
        self.cache.clear()

    def get_or_create(self, sku: str, name: str) -> Product:
        """For a real run, after check() found the SKU known or creatable."""
        product = self.ensure(sku, name, dry_run=False)
        if product is None:
            raise RuntimeError(f"{sku} was checked but is unknown")
        return product

    def known_or_planned(self, sku: str) -> bool:
        return self.find(sku) is not None or (self.create_missing and bool(normalize_sku(sku)))


class ProductImporter(Importer):
    target_type = "product"
    can_update = True

    def key(self, record: CanonicalRecord) -> str:
        return record.source_id or normalize_sku(str(record.fields["sku"]))

    def conflict(self, record: CanonicalRecord) -> RowError | None:
        if Product.objects.filter(sku=normalize_sku(str(record.fields["sku"]))).exists():
            return self.err(record, "product_exists", "sku", "a product with this SKU exists")
        return None

    def check(self, record: CanonicalRecord) -> list[RowError]:
        sku = normalize_sku(str(record.fields["sku"]))
        if not sku or len(sku) > 64:
            return [self.err(record, "bad_sku", "sku", "empty or longer than 64", sku)]
        clashes = SkuAlias.objects.filter(alias__in=self._aliases(record)).exclude(product__sku=sku)
        errors = [
            self.err(record, "alias_taken", "aliases", f"alias of {a.product_id}", a.alias)
            for a in clashes
        ]
        raw_upc = str(record.fields.get("upc") or "").strip()
        if raw_upc:
            upc = normalize_upc(raw_upc)
            if upc is None:
                detail = "not a UPC/EAN/GTIN with its check digit"
                errors.append(self.err(record, "bad_upc", "upc", detail, raw_upc))
            elif owner := Product.objects.filter(upc=upc).exclude(sku=sku).first():
                errors.append(self.err(record, "upc_taken", "upc", f"UPC of {owner.sku}", raw_upc))
        return errors

    def _upc(self, record: CanonicalRecord) -> str:
        return normalize_upc(str(record.fields.get("upc") or "")) or ""

    def create(self, record: CanonicalRecord) -> str:
        fields = record.fields
        upc = self._upc(record)
        if upc and Product.objects.filter(upc=upc).exists():
            # Another row of the same file took this code first (check() saw the database only).
            raise InvalidInput([FieldError("upc_taken", "another product has this UPC", "upc")])
        product = Product.objects.create(
            sku=str(fields["sku"]),
            name=str(fields["name"])[:255],
            weight_grams=fields.get("weight_grams"),
            upc=upc,
            is_active=fields.get("is_active") is not False,
        )
        self._save_aliases(product, record)
        return str(product.pk)

    def update(self, record: CanonicalRecord, target_id: str) -> None:
        product = Product.objects.select_for_update(of=("self",)).get(pk=int(target_id))
        product.name = str(record.fields["name"])[:255]
        product.weight_grams = record.fields.get("weight_grams")
        if record.fields.get("upc"):
            product.upc = self._upc(record)
        product.is_active = record.fields.get("is_active") is not False
        product.save()
        self._save_aliases(product, record)

    def _aliases(self, record: CanonicalRecord) -> list[str]:
        value: Any = record.fields.get("aliases") or []
        values = value if isinstance(value, list) else [value]
        return [normalize_sku(str(v)) for v in values if str(v).strip()]

    def _save_aliases(self, product: Product, record: CanonicalRecord) -> None:
        for alias in self._aliases(record):
            SkuAlias.objects.get_or_create(
                source=self.mapping.source, alias=alias, defaults={"product": product}
            )


class NodeImporter(Importer):
    target_type = "node"
    can_update = True

    def key(self, record: CanonicalRecord) -> str:
        return record.source_id or str(record.fields["code"])

    def conflict(self, record: CanonicalRecord) -> RowError | None:
        if Node.objects.filter(code=record.fields["code"]).exists():
            return self.err(record, "node_exists", "code", "a node with this code exists")
        return None

    def check(self, record: CanonicalRecord) -> list[RowError]:
        errors = []
        fields = record.fields
        if fields["kind"] not in NodeKind.values:
            errors.append(
                self.err(record, "bad_node_kind", "kind", "not an oms node kind", fields["kind"])
            )
        unknown = set(fields.get("capabilities") or []) - CAPABILITIES
        if unknown:
            errors.append(self.err(record, "bad_capability", "capabilities", "", sorted(unknown)))
        if self._coordinates(fields) is None:
            errors.append(
                self.err(
                    record,
                    "no_coordinates",
                    "latitude",
                    "no coordinates and the postal code is not a known US ZIP",
                    fields.get("postal_code"),
                )
            )
        return errors

    @staticmethod
    def _coordinates(fields: dict[str, Any]) -> tuple[Decimal, Decimal] | None:
        lat, lng = fields.get("latitude"), fields.get("longitude")
        if lat is not None and lng is not None:
            lat, lng = Decimal(str(lat)), Decimal(str(lng))
            if -90 <= lat <= 90 and -180 <= lng <= 180:
                return lat.quantize(_SIX, ROUND_HALF_UP), lng.quantize(_SIX, ROUND_HALF_UP)
            return None
        found = resolve_postal_code(
            str(fields.get("postal_code") or ""), str(fields.get("country") or "US")
        )
        if found is None:
            return None
        return Decimal(str(found[0])).quantize(_SIX), Decimal(str(found[1])).quantize(_SIX)

    def _values(self, fields: dict[str, Any]) -> dict[str, Any]:
        caps = set(fields.get("capabilities") or [])
        coordinates = self._coordinates(fields)
        if coordinates is None:  # check() refused the record otherwise
            raise RuntimeError("checked before")
        return {
            "name": str(fields["name"])[:200],
            "kind": fields["kind"],
            "address_line1": str(fields.get("address_line1") or "")[:200],
            "address_line2": str(fields.get("address_line2") or "")[:200],
            "city": str(fields.get("city") or "")[:100],
            "region": str(fields.get("region") or "")[:100],
            "postal_code": str(fields.get("postal_code") or "")[:20],
            "country": str(fields.get("country") or "US")[:2],
            "latitude": coordinates[0],
            "longitude": coordinates[1],
            "timezone": fields.get("timezone") or "America/New_York",
            "can_ship": "ship" in caps,
            "can_pickup": "pickup" in caps,
            "can_curbside": "curbside" in caps,
            "can_ship_from_store": "ship_from_store" in caps
            or ("ship" in caps and fields["kind"] == NodeKind.STORE),
            "can_accept_returns": "returns" in caps,
            "is_active": fields.get("is_active") is not False,
        }

    def create(self, record: CanonicalRecord) -> str:
        node = Node.objects.create(code=record.fields["code"], **self._values(record.fields))
        return str(node.pk)

    def update(self, record: CanonicalRecord, target_id: str) -> None:
        node = Node.objects.select_for_update(of=("self",)).get(pk=int(target_id))
        for name, value in self._values(record.fields).items():
            setattr(node, name, value)
        node.save()


class StockImporter(Importer):
    """Opening stock: one level per (node, SKU) through set_initial_stock (an `adjustment`
    movement with reference initial_stock). A level that exists is the feeds' business: a
    changed count is reported, never overwritten here."""

    target_type = "stock_level"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.products = ProductResolver(self.mapping.options.create_missing_products)
        self.nodes: dict[str, Node | None] = {}

    def _node(self, code: str) -> Node | None:
        if code not in self.nodes:
            self.nodes[code] = Node.objects.filter(code=code).first()
        return self.nodes[code]

    def key(self, record: CanonicalRecord) -> str:
        return f"{record.fields['node']}/{normalize_sku(str(record.fields['sku']))}"

    def conflict(self, record: CanonicalRecord) -> RowError | None:
        node = self._node(str(record.fields["node"]))
        product = self.products.find(str(record.fields["sku"]))
        if node and product and StockLevel.objects.filter(node=node, product=product).exists():
            return self.err(record, "stock_exists", "sku", "the node already counts this SKU")
        return None

    def check(self, record: CanonicalRecord) -> list[RowError]:
        errors = []
        fields = record.fields
        if self._node(str(fields["node"])) is None:
            errors.append(self.err(record, "unknown_node", "node", "no such node", fields["node"]))
        if not self.products.known_or_planned(str(fields["sku"])):
            errors.append(self.err(record, "unknown_sku", "sku", "no such product", fields["sku"]))
        for name in ("on_hand", "safety_stock"):
            if not isinstance(fields.get(name) or 0, int) or (fields.get(name) or 0) < 0:
                errors.append(self.err(record, "bad_quantity", name, "not a count", fields[name]))
        if self.dry_run and not errors:
            self.products.ensure(
                str(fields["sku"]), str(fields.get("product_name") or ""), dry_run=True
            )
        return errors

    batch_size = 500

    def rolled_back(self) -> None:
        self.products.forget()

    def create_many(self, records: list[CanonicalRecord]) -> list[str]:
        """One set_initial_stock per node (and count time) in the batch: one event each."""
        by_node: dict[tuple[str, Any], list[tuple[int, InitialStock]]] = {}
        targets: list[str] = [""] * len(records)
        for index, record in enumerate(records):
            fields = record.fields
            product = self.products.get_or_create(
                str(fields["sku"]), str(fields.get("product_name") or "")
            )
            level = InitialStock(
                product.pk, int(fields["on_hand"]), int(fields.get("safety_stock") or 0)
            )
            by_node.setdefault((str(fields["node"]), fields.get("as_of")), []).append(
                (index, level)
            )
            targets[index] = f"{fields['node']}/{product.sku}"
        for (code, as_of), levels in by_node.items():
            node = self._node(code)
            if node is None:
                raise RuntimeError(f"{code} was checked but is unknown")
            set_initial_stock(
                node_id=node.pk,
                levels=[level for _, level in levels],
                actor=self.actor,
                reported_at=as_of,
                source_system=f"migration:{self.mapping.source}",
            )
        return targets
