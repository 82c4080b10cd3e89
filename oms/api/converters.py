"""Strict path converters for the API's URLs (registered in oms/api/apps.py).

Django's `str` takes anything but `/` (a NUL, 10 kB of text, any script) to a database lookup,
and `int` takes a 40-digit number. These match only what oms issues, so anything else is
`404 not_found` before a view runs:

- `ref`: an order or fulfillment number or another reference oms prints (`OMS-7ZN4-H38A`,
  `OMS-7ZN4-H38A-2`, `easypost`): 1–64 ASCII letters, digits, `.`, `_` or `-`, starting with a
  letter or digit.
- `id`: a database id, 1 to 2^31 - 1 without leading zeros (an int4 column's range).
"""

from django.urls.converters import StringConverter

MAX_ID = 2**31 - 1


class ReferenceConverter(StringConverter):
    regex = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"


class IdConverter:
    regex = r"[1-9][0-9]{0,9}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValueError("id out of range")  # Django: no match, so 404
        return number

    def to_url(self, value: int) -> str:
        return str(value)
