"""System query options ($filter, $select, $orderby, $top, $skip, $count, $expand, $skiptoken...) parsed into one
frozen ``QueryOptions`` value, and printed back to a query string.

Which options an API supports is its choice: it passes the set it serves; an option it does not serve answers 501
(valid OData, not implemented here), an unknown ``$option`` answers 400. Names are case-sensitive, as Dataverse's
are. Parameter aliases (``$filter=Name eq @p1&@p1='x'``) are substituted before parsing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

from odata_query import ast

from isthmus.errors import NotSupportedError, QueryOptionError
from isthmus.odata.query.filter import parse_filter, print_filter

KNOWN_OPTIONS = frozenset(
    {
        "$filter", "$select", "$orderby", "$top", "$skip", "$count", "$expand", "$skiptoken",
        "$format", "$search", "$apply", "$levels", "$compute", "$index", "$deltatoken", "$schemaversion",
    }
)
MAX_TOP = 2**31 - 1
_PATH = re.compile(r"^[A-Za-z_][\w.]*(/[A-Za-z_][\w.]*)*$")
_ALIAS = re.compile(r"@[A-Za-z_]\w*")


@dataclass(frozen=True)
class OrderItem:
    path: tuple[str, ...]
    descending: bool = False


@dataclass(frozen=True)
class ExpandItem:
    path: tuple[str, ...]
    options: QueryOptions


@dataclass(frozen=True)
class QueryOptions:
    filter: ast._Node | None = None
    select: tuple[tuple[str, ...], ...] | None = None
    """``None`` selects every property; ``*`` also gives ``None``."""
    orderby: tuple[OrderItem, ...] = ()
    top: int | None = None
    skip: int | None = None
    count: bool = False
    expand: tuple[ExpandItem, ...] = ()
    skiptoken: str | None = None
    apply: str | None = None
    custom: Mapping[str, str] = field(default_factory=dict)
    """Non-system query parameters (``cross-company``, ``fetchXml``...), passed through as given."""

    def to_query_string(self, *, include_paging: bool = True) -> str:
        """Print the options back to a query string (values percent-encoded, ``$`` and ``,`` kept readable)."""
        parts = [f"{k}={_q(v)}" for k, v in self._pairs(include_paging=include_paging)]
        return "&".join(parts)

    def _pairs(self, *, include_paging: bool = True, nested: bool = False) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = []
        if self.filter is not None:
            pairs.append(("$filter", print_filter(self.filter)))
        if self.select is not None:
            pairs.append(("$select", ",".join("/".join(p) for p in self.select)))
        if self.expand:
            pairs.append(("$expand", ",".join(_print_expand(e) for e in self.expand)))
        if self.orderby:
            pairs.append(
                ("$orderby", ",".join("/".join(o.path) + (" desc" if o.descending else "") for o in self.orderby))
            )
        if self.top is not None:
            pairs.append(("$top", str(self.top)))
        if self.skip is not None and include_paging:
            pairs.append(("$skip", str(self.skip)))
        if self.count:
            pairs.append(("$count", "true"))
        if self.apply is not None:
            pairs.append(("$apply", self.apply))
        if self.skiptoken is not None and include_paging:
            pairs.append(("$skiptoken", self.skiptoken))
        if not nested:
            pairs.extend(self.custom.items())
        return pairs


def _print_expand(item: ExpandItem) -> str:
    inner = item.options._pairs(nested=True)
    path = "/".join(item.path)
    if not inner:
        return path
    return path + "(" + ";".join(f"{k}={v}" for k, v in inner) + ")"


def _q(value: str) -> str:
    return quote(value, safe="$,/:()'=*@-._~;")


def parse_query_options(
    params: Sequence[tuple[str, str]] | Mapping[str, str],
    *,
    supported: Iterable[str],
    max_top: int = MAX_TOP,
) -> QueryOptions:
    """Parse decoded query parameters. ``supported`` lists the system options this API serves."""
    items = list(params.items()) if isinstance(params, Mapping) else list(params)
    served = frozenset(supported)
    system: dict[str, str] = {}
    aliases: dict[str, str] = {}
    custom: dict[str, str] = {}
    for name, value in items:
        if name.startswith("$"):
            if name not in KNOWN_OPTIONS:
                hint = next((k for k in KNOWN_OPTIONS if k.lower() == name.lower()), None)
                raise QueryOptionError(
                    f"Unknown system query option {name!r}." + (f" Option names are case-sensitive: use {hint!r}." if hint else ""),
                    target=name,
                )
            if name in system:
                raise QueryOptionError(f"The query option {name} is given more than once.", target=name)
            if name not in served:
                raise NotSupportedError(f"The query option {name} is not supported by this API.", target=name)
            system[name] = value
        elif name.startswith("@"):
            aliases[name] = value
        else:
            custom[name] = value
    return _build(system, aliases, custom, max_top=max_top, served=served)


def _build(
    system: Mapping[str, str],
    aliases: Mapping[str, str],
    custom: Mapping[str, str],
    *,
    max_top: int,
    served: frozenset[str],
) -> QueryOptions:
    filter_node = None
    if "$filter" in system:
        text = system["$filter"]
        if "@" in text:
            text = _substitute_aliases(text, aliases)
        filter_node = parse_filter(text)
    orderby_text = system.get("$orderby")
    if orderby_text is not None and "@" in orderby_text:
        orderby_text = _substitute_aliases(orderby_text, aliases)
    return QueryOptions(
        filter=filter_node,
        select=_parse_select(system["$select"]) if "$select" in system else None,
        orderby=_parse_orderby(orderby_text) if orderby_text is not None else (),
        top=_parse_int("$top", system["$top"], max_top) if "$top" in system else None,
        skip=_parse_int("$skip", system["$skip"], MAX_TOP) if "$skip" in system else None,
        count=_parse_bool("$count", system["$count"]) if "$count" in system else False,
        expand=_parse_expand(system["$expand"], served, max_top) if "$expand" in system else (),
        skiptoken=system.get("$skiptoken"),
        apply=system.get("$apply"),
        custom=dict(custom),
    )


def _substitute_aliases(text: str, aliases: Mapping[str, str]) -> str:
    out, i, n = [], 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "'":
            j = i + 1
            while j < n and not (text[j] == "'" and (j + 1 >= n or text[j + 1] != "'")):
                j += 2 if text[j] == "'" else 1
            out.append(text[i : j + 1])
            i = j + 1
            continue
        match = _ALIAS.match(text, i) if ch == "@" else None
        if match:
            name = match.group(0)
            if name not in aliases:
                raise QueryOptionError(f"The parameter alias {name} has no value.", target=name)
            out.append(aliases[name])
            i = match.end()
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _parse_int(name: str, value: str, maximum: int) -> int:
    if not value.isdigit():
        raise QueryOptionError(f"{name} must be a non-negative whole number; got {value!r}.", target=name)
    number = int(value)
    if number > maximum:
        raise QueryOptionError(f"{name} must be at most {maximum}; got {number}.", target=name)
    return number


def _parse_bool(name: str, value: str) -> bool:
    if value not in ("true", "false"):
        raise QueryOptionError(f"{name} must be true or false; got {value!r}.", target=name)
    return value == "true"


def _path(text: str, option: str) -> tuple[str, ...]:
    text = text.strip()
    if not _PATH.match(text):
        raise QueryOptionError(f"{option} names {text!r}, which is not a property path.", target=option)
    return tuple(text.split("/"))


def _parse_select(text: str) -> tuple[tuple[str, ...], ...] | None:
    items = split_top_level(text, ",")
    if any(i.strip() == "*" for i in items):
        return None
    if not items or any(not i.strip() for i in items):
        raise QueryOptionError("$select has an empty item.", target="$select")
    return tuple(_path(i, "$select") for i in items)


def _parse_orderby(text: str) -> tuple[OrderItem, ...]:
    result = []
    for item in split_top_level(text, ","):
        words = item.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise QueryOptionError(
                f"$orderby item {item.strip()!r} must be a property path optionally followed by asc or desc.",
                target="$orderby",
            )
        result.append(OrderItem(_path(words[0], "$orderby"), len(words) == 2 and words[1] == "desc"))
    return tuple(result)


def _parse_expand(text: str, served: frozenset[str], max_top: int) -> tuple[ExpandItem, ...]:
    items = []
    for raw in split_top_level(text, ","):
        raw = raw.strip()
        if not raw:
            raise QueryOptionError("$expand has an empty item.", target="$expand")
        paren = raw.find("(")
        if paren == -1:
            items.append(ExpandItem(_path(raw, "$expand"), QueryOptions()))
            continue
        if not raw.endswith(")"):
            raise QueryOptionError(f"$expand item {raw!r} has unbalanced parentheses.", target="$expand")
        path = _path(raw[:paren], "$expand")
        nested: dict[str, str] = {}
        for part in split_top_level(raw[paren + 1 : -1], ";"):
            if not part.strip():
                continue
            name, sep, value = part.partition("=")
            name = name.strip()
            if not sep:
                raise QueryOptionError(f"$expand option {part!r} needs a value.", target="$expand")
            if name not in KNOWN_OPTIONS:
                raise QueryOptionError(f"Unknown option {name!r} inside $expand.", target="$expand")
            if name not in served or name in ("$skiptoken", "$apply", "$search", "$format"):
                raise NotSupportedError(f"{name} is not supported inside $expand.", target="$expand")
            if name in nested:
                raise QueryOptionError(f"{name} is given more than once inside $expand.", target="$expand")
            nested[name] = value
        items.append(ExpandItem(path, _build(nested, {}, {}, max_top=max_top, served=served)))
    return tuple(items)


def split_top_level(text: str, separator: str) -> list[str]:
    """Split on ``separator`` outside parentheses and single-quoted strings."""
    parts, depth, start, i, n = [], 0, 0, 0, len(text)
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
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise QueryOptionError(f"Unbalanced parentheses in {text!r}.")
        elif ch == separator and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    if depth != 0:
        raise QueryOptionError(f"Unbalanced parentheses in {text!r}.")
    parts.append(text[start:])
    return parts
