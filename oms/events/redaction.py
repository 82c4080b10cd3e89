"""Masking event payloads on read: the one function every reader of payloads goes through.

Two rules, applied to a copy of the payload (the stored event never changes):

1. Secrets are never shown: a key in SECRET_KEYS (today `pickup_code`, which events written
   before pickup codes left the payload still carry) is replaced by HIDDEN in every stream.
2. Erased personal data: when the stream has a `Redaction` row (erase_customer), every string
   whose normalised value (stripped, case-folded) digests to one of the row's erased values is
   replaced by that value's replacement (`[erased]`, or the kept postal prefix).

Readers: the orders API's events endpoint, the event log admin, the order page's event
timeline (ops), webhook bodies (webhooks/sending.py, which replays use too).
"""

import hashlib
import secrets
from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from oms.events.models import Redaction

ERASED = "[erased]"
HIDDEN = "[hidden]"
SECRET_KEYS = frozenset({"pickup_code"})


def normalise(value: str) -> str:
    return " ".join(value.split()).casefold()


def digest(salt: str, value: str) -> str:
    return hashlib.sha256(f"{salt}:{normalise(value)}".encode()).hexdigest()


class Masker:
    """Masks the payloads of the given streams; build it once per page or batch."""

    def __init__(self, redactions: Iterable[Redaction] = ()) -> None:
        self._by_stream = {
            r.stream: (r.salt, {v["digest"]: v["replacement"] for v in r.values})
            for r in redactions
        }

    @classmethod
    def for_streams(cls, streams: Iterable[str]) -> "Masker":
        wanted = set(streams)
        return cls(Redaction.objects.filter(stream__in=wanted) if wanted else ())

    def is_redacted(self, stream: str) -> bool:
        return stream in self._by_stream

    def payload(self, stream: str, payload: Any) -> Any:
        erased = self._by_stream.get(stream)
        return _mask(payload, erased)


def _mask(value: Any, erased: tuple[str, dict[str, str]] | None) -> Any:
    if isinstance(value, dict):
        return {
            key: HIDDEN if key in SECRET_KEYS and item not in (None, "") else _mask(item, erased)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_mask(item, erased) for item in value]
    if isinstance(value, str) and erased is not None and value.strip():
        return _mask_text(value, *erased)
    return value


MAX_WORDS = 6  # the longest erased value found inside free text (a name, a street line)
PUNCTUATION = ".,;:!?()[]{}<>\"'"


def _mask_text(text: str, salt: str, replacements: dict[str, str]) -> str:
    """The whole string when it is an erased value; otherwise each run of up to MAX_WORDS
    words that is one (free text such as a hold reason quoting an e-mail address)."""
    whole = replacements.get(digest(salt, text))
    if whole is not None:
        return whole
    words = text.split(" ")
    out: list[str] = []
    i = 0
    while i < len(words):
        for size in range(min(MAX_WORDS, len(words) - i), 0, -1):
            run = " ".join(words[i : i + size])
            core = run.strip(PUNCTUATION)
            replacement = replacements.get(digest(salt, core)) if core else None
            if replacement is not None:
                start = run.find(core)
                out.append(run[:start] + replacement + run[start + len(core) :])
                i += size
                break
        else:
            out.append(words[i])
            i += 1
    return " ".join(out)


def scrub(text: str, values: dict[str, str], min_length: int = 3) -> str:
    """`text` with every occurrence of each erased value (case-insensitive) replaced: for rows
    that are redacted in place (operational logs, hold reasons), where the values are known."""
    for value, replacement in values.items():
        lowered = value.lower()
        if len(value.strip()) < min_length or lowered not in text.lower():
            continue
        out, start = [], 0
        while (i := text.lower().find(lowered, start)) >= 0:
            out.append(text[start:i] + replacement)
            start = i + len(value)
        text = "".join(out) + text[start:]
    return text


def mask_payload(stream: str, payload: Any) -> Any:
    """One payload (one query for the stream's redaction); use Masker for many."""
    return Masker.for_streams([stream]).payload(stream, payload)


def add_redaction(
    *, stream: str, values: dict[str, str], fields: Iterable[str], erased_by: str
) -> Redaction:
    """Record erased values for `stream` ({value: replacement}); merges with an earlier
    redaction of the same stream. Call inside the transaction that erases the values."""
    redaction = Redaction.objects.select_for_update(of=("self",)).filter(stream=stream).first()
    if redaction is None:
        redaction = Redaction(stream=stream, salt=secrets.token_hex(16), values=[], fields=[])
    known = {v["digest"] for v in redaction.values}
    for value, replacement in values.items():
        if not value.strip():
            continue
        d = digest(redaction.salt, value)
        if d not in known:
            redaction.values.append({"digest": d, "replacement": replacement})
            known.add(d)
    redaction.fields = sorted(set(redaction.fields) | set(fields))
    redaction.erased_at = timezone.now()
    redaction.erased_by = erased_by
    redaction.save()
    return redaction
