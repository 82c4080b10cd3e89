"""The demo catalogue: 25 product families (apparel, home, outdoor) in colors and sizes, 225
variants, plus one limited edition nobody stocks. The same on every call: variants and weights
come from Random(42)."""

import random
from dataclasses import dataclass

from inventory.models import Product, gtin_check_digit_ok, normalize_sku

SEED = 42
# Nobody has this one: its orders wait as backorders until stock arrives (README).
LIMITED_EDITION_SKU = "LTD-JACKET-CRIMSON-M"

COLORS: dict[str, str] = {
    "BLK": "Black", "NVY": "Navy", "GRY": "Heather Grey", "OLV": "Olive", "WHT": "White",
    "RST": "Rust", "SKY": "Sky Blue", "CRM": "Cream", "SGE": "Sage", "CHR": "Charcoal",
    "SND": "Sand", "BRG": "Burgundy",
}  # fmt: skip
APPAREL_SIZES = ("S", "M", "L", "XL")
SIZE_WEIGHT = {"S": 0.92, "M": 1.0, "L": 1.08, "XL": 1.16}
SIZE_LABELS = {"TWIN": "Twin", "FULL": "Full", "QUEEN": "Queen", "KING": "King"}


@dataclass(frozen=True)
class Family:
    """A product with its variants: `colors` of COLORS drawn at random, times every size."""

    department: str
    code: str
    name: str
    grams: int
    colors: int
    sizes: tuple[str, ...] = ()


# fmt: off
FAMILIES: tuple[Family, ...] = (
    # Apparel: 10 styles × 4 colors × 4 sizes
    Family("APP", "TSHIRT", "Organic Cotton T-Shirt", 180, 4, APPAREL_SIZES),
    Family("APP", "HENLEY", "Long-Sleeve Waffle Henley", 260, 4, APPAREL_SIZES),
    Family("APP", "HOODIE", "Midweight Pullover Hoodie", 620, 4, APPAREL_SIZES),
    Family("APP", "CREW", "Merino Crewneck Sweater", 380, 4, APPAREL_SIZES),
    Family("APP", "FLANNEL", "Brushed Flannel Shirt", 340, 4, APPAREL_SIZES),
    Family("APP", "CHINO", "Slim Stretch Chino", 450, 4, APPAREL_SIZES),
    Family("APP", "JOGGER", "French Terry Jogger", 420, 4, APPAREL_SIZES),
    Family("APP", "RAINJKT", "Packable Rain Jacket", 310, 4, APPAREL_SIZES),
    Family("APP", "PUFFER", "Recycled Down Puffer Jacket", 520, 4, APPAREL_SIZES),
    Family("APP", "FLEECE", "Quarter-Zip Fleece", 400, 4, APPAREL_SIZES),
    # Home
    Family("HOM", "MUG", "Stoneware Mug 12 oz", 390, 5),
    Family("HOM", "TOWEL", "Turkish Cotton Bath Towel", 650, 5),
    Family("HOM", "THROW", "Chunky Knit Throw Blanket", 1800, 4),
    Family("HOM", "PILLOW", "Linen Pillow Cover 20x20", 210, 5),
    Family("HOM", "SHEETS", "Percale Sheet Set", 1600, 2, ("TWIN", "FULL", "QUEEN", "KING")),
    Family("HOM", "DUVET", "Washed Linen Duvet Cover", 1900, 2, ("FULL", "QUEEN", "KING")),
    Family("HOM", "APRON", "Canvas Kitchen Apron", 280, 3),
    # Outdoor
    Family("OUT", "BOTTLE", "Insulated Water Bottle 24 oz", 430, 5),
    Family("OUT", "DAYPACK", "Trail Daypack 22L", 820, 3),
    Family("OUT", "HEADLAMP", "Rechargeable Headlamp 400 lm", 95, 2),
    Family("OUT", "CHAIR", "Folding Camp Chair", 2300, 3),
    Family("OUT", "HAMMOCK", "Ultralight Hammock", 540, 3),
    Family("OUT", "COOLER", "Soft Cooler 24-Can", 1400, 3),
    Family("OUT", "SOCKS", "Merino Hiking Socks", 85, 2, ("S", "M", "L")),
    Family("OUT", "BEANIE", "Ribbed Wool Beanie", 90, 4),
)
# fmt: on


@dataclass(frozen=True)
class ProductSpec:
    sku: str
    name: str
    weight_grams: int
    upc: str = ""


# The demo's UPC-A codes: a made-up GS1 company prefix, the item's position, a check digit.
DEMO_UPC_PREFIX = "0812346"


def demo_upc(position: int) -> str:
    body = f"{DEMO_UPC_PREFIX}{position:04d}"
    return next(body + str(d) for d in range(10) if gtin_check_digit_ok(body + str(d)))


def demo_products() -> list[ProductSpec]:
    """The catalog, the same on every call: variants and weights come from Random(42)."""
    rng = random.Random(SEED)  # noqa: S311 - demo data, not security
    products: list[ProductSpec] = []
    for family in FAMILIES:
        for color in rng.sample(sorted(COLORS), family.colors):
            for size in family.sizes or ("",):
                factor = SIZE_WEIGHT.get(size, 1.0)
                grams = round(family.grams * factor * rng.uniform(0.97, 1.03))
                sku = "-".join(
                    part for part in (family.department, family.code, color, size) if part
                )
                size_label = SIZE_LABELS.get(size, size)
                label = ", ".join(p for p in (family.name, COLORS[color], size_label) if p)
                products.append(
                    ProductSpec(
                        sku=normalize_sku(sku),
                        name=label,
                        weight_grams=grams,
                        upc=demo_upc(len(products) + 1),
                    )
                )
    products.append(
        ProductSpec(
            sku=LIMITED_EDITION_SKU,
            name="Limited Edition Jacket, Crimson, M",
            weight_grams=900,
            upc=demo_upc(len(products) + 1),
        )
    )
    return products


def upsert_products(specs: list[ProductSpec]) -> dict[str, int]:
    """Create or refresh the products (keyed on SKU); returns their ids by SKU."""
    Product.objects.bulk_create(
        [Product(sku=s.sku, name=s.name, weight_grams=s.weight_grams, upc=s.upc) for s in specs],
        update_conflicts=True,
        unique_fields=["sku"],
        update_fields=["name", "weight_grams", "upc", "updated_at"],
    )
    return dict(Product.objects.filter(sku__in=[s.sku for s in specs]).values_list("sku", "pk"))
