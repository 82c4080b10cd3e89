"""Distances and postal-code coordinates for routing. Offline: no network calls."""

import math
from functools import lru_cache

import zipcodes

EARTH_RADIUS_MILES = 3958.8


def haversine_miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in miles between two points given in degrees."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(a)))


def resolve_postal_code(postal_code: str, country: str) -> tuple[float, float, str] | None:
    """(latitude, longitude, state code) of a US ZIP code, or None when unknown or not US."""
    if country.strip().upper() != "US":
        return None
    code = postal_code.strip()[:5]
    if len(code) != 5 or not code.isdigit():
        return None  # zipcodes raises ValueError on anything but ##### / #####-####
    return _zip_area(code[:2]).get(code)


def preload_zip_areas() -> None:
    """Build every area's table now (about 0.3 s of CPU and 11 MB): long-running processes
    call it at start-up (oms/core/process_tuning.py), so no request or task pays for an area
    it is the first to meet (about 5 ms each: 69 of 150 orders to random US addresses in a
    fresh process did, which set routing's p99), and the tables land in the frozen heap."""
    for prefix in range(100):
        _zip_area(f"{prefix:02d}")


@lru_cache(maxsize=100)
def _zip_area(prefix: str) -> dict[str, tuple[float, float, str]]:
    """Every ZIP code starting with these two digits, with its coordinates and state: one scan
    of the package's table per area (about 430 codes) instead of one per ZIP code.
    zipcodes.matching() scanned the whole table for each code (about 1 ms of CPU, the largest
    Python cost of a route_order after planning: docs/performance.md, Routing); all 100 areas
    together hold the 42,000 codes in a few MB (the package's own list of dicts took 100 MB)."""
    return {
        z["zip_code"]: (float(z["lat"]), float(z["long"]), z["state"])
        for z in zipcodes.similar_to(prefix)
    }
