"""Resource paths: ``/CustomersV3(dataAreaId='usmf',CustomerAccount='US-001')/Microsoft.Dynamics.DataEntities.X``
split into segments, with key predicates parsed into typed values.

Segments are split on the *raw* path (before percent-decoding), so an encoded ``/`` inside a key value stays part of
the value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from isthmus.errors import InvalidRequestError

_SEGMENT = re.compile(r"^(?P<name>[^()]+)(?:\((?P<key>.*)\))?$", re.S)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass(frozen=True)
class Segment:
    name: str
    key: tuple[tuple[str | None, object], ...] | None = None
    """Key predicate as (property name or None for a single unnamed value, value); ``None`` when absent."""


def split_path(raw_path: str) -> list[Segment]:
    """Split the part of a raw URL path after the service root into parsed segments."""
    segments = []
    for raw in raw_path.split("/"):
        if raw == "":
            continue
        text = unquote(raw)
        match = _SEGMENT.match(text)
        if match is None:
            raise InvalidRequestError(f"The URL segment {text!r} is not a valid resource path segment.")
        key_text = match.group("key")
        segments.append(Segment(match.group("name"), parse_key(key_text) if key_text is not None else None))
    return segments


def parse_key(text: str) -> tuple[tuple[str | None, object], ...]:
    """Parse ``'x'``, ``5``, ``<guid>`` or ``a='x',b=5`` (any order) into (name, value) pairs."""
    parts = _split_key(text)
    if not parts:
        raise InvalidRequestError("The key predicate () is empty.")
    result = []
    for part in parts:
        name, value = _split_pair(part)
        result.append((name, _literal(value)))
    if len(result) > 1 and any(n is None for n, _ in result):
        raise InvalidRequestError(f"Key predicate ({text}) mixes named and unnamed values.")
    names = [n for n, _ in result if n is not None]
    if len(names) != len(set(names)):
        raise InvalidRequestError(f"Key predicate ({text}) names a key property twice.")
    return tuple(result)


def _split_key(text: str) -> list[str]:
    parts, start, i, n = [], 0, 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "'":
            i += 1
            while i < n:
                if text[i] == "'":
                    if i + 1 < n and text[i + 1] == "'":
                        i += 2
                        continue
                    break
                i += 1
            if i >= n:
                raise InvalidRequestError(f"Key predicate ({text}) has an unterminated quoted value.")
        elif ch == ",":
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()] if text.strip() else []


def _split_pair(part: str) -> tuple[str | None, str]:
    if part.startswith("'"):
        return None, part
    name, sep, value = part.partition("=")
    if not sep:
        return None, part
    name = name.strip()
    if not re.match(r"^[A-Za-z_]\w*$", name):
        raise InvalidRequestError(f"{name!r} is not a valid key property name.")
    return name, value.strip()


def _literal(text: str) -> object:
    if len(text) >= 2 and text[0] == "'" and text[-1] == "'":
        return text[1:-1].replace("''", "'")
    if _GUID.match(text):
        return text.lower()
    if re.match(r"^-?\d+$", text):
        return int(text)
    if text in ("true", "false"):
        return text == "true"
    raise InvalidRequestError(f"Key value {text!r} is not a valid literal; quote text values as 'value'.")
