"""ISO 3166-1 alpha-2 country codes, from CLDR through Babel (already a dependency).

CLDR's territory list also holds regions ("001", "EU", "EZ", "UN"), codes ISO 3166 only
reserves (AC Ascension, CP Clipperton, DG Diego Garcia, EA Ceuta & Melilla, IC Canary Islands,
TA Tristan da Cunha, CQ Sark) and user-assigned codes (AA, QM–QZ, XA–XZ, ZZ, among them CLDR's
XK Kosovo and its XA/XB pseudo-locales). None of those is an ISO 3166-1 assigned code, so none is
accepted as an address country: a carrier or a tax engine would refuse it later, further from
the channel that can fix it.
"""

from functools import cache

from babel import Locale

_EXCEPTIONALLY_RESERVED = frozenset({"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "TA", "UN"})


def _user_assigned(code: str) -> bool:
    return code in ("AA", "ZZ") or code[0] == "X" or (code[0] == "Q" and code[1] >= "M")


@cache
def iso_countries() -> frozenset[str]:
    """The 249 assigned ISO 3166-1 alpha-2 codes, upper case."""
    codes = [code for code in Locale("en").territories if isinstance(code, str)]
    return frozenset(
        code
        for code in codes
        if len(code) == 2
        and code.isalpha()
        and code.isupper()
        and code not in _EXCEPTIONALLY_RESERVED
        and not _user_assigned(code)
    )


def is_iso_country(code: str) -> bool:
    """True for an assigned ISO 3166-1 alpha-2 code, in either case ("us" is US)."""
    return code.upper() in iso_countries()
