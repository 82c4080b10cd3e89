"""Cells that a spreadsheet will not run: a text cell that starts with `=`, `+`, `-`, `@`, a
tab or a carriage return is read by Excel, LibreOffice and Google Sheets as a formula (CSV
injection, OWASP). Such text gets a leading apostrophe, which spreadsheets show as text and
do not store. Numbers stay numbers: a refund of -5.00 is a Decimal, not text, and is left alone.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """The value as it may go into a cell."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(value: Any) -> str:
    """A cell of a CSV file: numbers and dates as written, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (Decimal, int)):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(neutralise(str(value)))
