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


@lru_cache(maxsize=4096)
def resolve_postal_code(postal_code: str, country: str) -> tuple[float, float, str] | None:
    """(latitude, longitude, state code) of a US ZIP code, or None when unknown or not US."""
    if country.strip().upper() != "US":
        return None
    code = postal_code.strip()[:5]
    if len(code) != 5 or not code.isdigit():
        return None  # zipcodes raises ValueError on anything but ##### / #####-####
    # similar_to() with the whole code is matching()'s answer for a five-digit code (the
    # exact filter below keeps it so) at a fraction of its CPU: about 1 ms per ZIP code not
    # yet in the cache was matching()'s price (docs/performance.md, Routing).
    match = next((z for z in zipcodes.similar_to(code) if z["zip_code"] == code), None)
    if match is None:
        return None
    return float(match["lat"]), float(match["long"]), match["state"]
