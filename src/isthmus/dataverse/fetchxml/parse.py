"""FetchXML text → ``FetchSpec``.

The XML comes from the network, so the parser is guarded: documents over 1 MB, a DOCTYPE, entity declarations and
external entities are refused before anything is expanded (no billion laughs, no XXE). Only the elements and
attributes FetchXML defines are read; an element FetchXML does not allow where it stands is an error, an attribute
we do not use (``version``, ``mapping``, ``output-format``, ``no-lock``, ``uiname``...) is ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.parsers import expat

from isthmus.dataverse.fetchxml.model import (
    AttributeSpec,
    ConditionSpec,
    EntitySpec,
    FetchSpec,
    FilterSpec,
    LinkSpec,
    OrderSpec,
)
from isthmus.errors import QueryOptionError

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64
_DIGITS = re.compile(r"[0-9]{1,9}")


@dataclass
class Element:
    tag: str
    attrib: dict[str, str]
    children: list[Element] = field(default_factory=list)
    text: str = ""


class _Refused(Exception):
    pass


def parse_xml(text: str, *, what: str = "FetchXML") -> Element:
    """A small, safe XML tree: no DTD, no entities beyond the five predefined ones, at most 1 MB and 64 levels."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    if len(data) > MAX_BYTES:
        raise QueryOptionError(f"The {what} document is larger than 1 MB.", target="fetchXml")
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[Element] = []
    root: list[Element] = []

    def refuse(*_args: object) -> None:
        raise _Refused(f"The {what} document may not contain a DOCTYPE or entity declarations.")

    def start(tag: str, attrib: dict[str, str]) -> None:
        if len(stack) >= MAX_DEPTH:
            raise _Refused(f"The {what} document nests elements more than {MAX_DEPTH} levels deep.")
        element = Element(tag, attrib)
        if stack:
            stack[-1].children.append(element)
        else:
            root.append(element)
        stack.append(element)

    def end(_tag: str) -> None:
        stack.pop()

    def chars(data: str) -> None:
        if stack:
            stack[-1].text += data

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse  # type: ignore[assignment]
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(data, True)
    except _Refused as exc:
        raise QueryOptionError(str(exc), target="fetchXml") from None
    except expat.ExpatError as exc:
        raise QueryOptionError(
            f"The {what} is not well-formed XML: {expat.ErrorString(exc.code)} "
            f"(line {exc.lineno}, column {exc.offset}).", target="fetchXml",
        ) from None
    if not root:
        raise QueryOptionError(f"The {what} document is empty.", target="fetchXml")
    return root[0]


# --- FetchXML ------------------------------------------------------------------------------------------------------

AGGREGATES = ("count", "countcolumn", "sum", "avg", "min", "max")


def parse_fetch(text: str) -> FetchSpec:
    if not isinstance(text, str) or not text.strip():
        raise QueryOptionError("The FetchXML query is empty.", target="fetchXml")
    root = parse_xml(text)
    if root.tag != "fetch":
        raise QueryOptionError(
            f"The root element of a FetchXML query must be 'fetch', not '{root.tag}'.", target="fetchXml"
        )
    entities = [c for c in root.children if c.tag == "entity"]
    _only(root, {"entity"})
    if len(entities) != 1:
        raise QueryOptionError("A fetch must contain exactly one 'entity' element.", target="fetchXml")
    a = root.attrib
    spec = FetchSpec(
        entity=_entity(entities[0], EntitySpec(_name(entities[0], "entity"))),
        top=_int(a, "top"),
        count=_int(a, "count"),
        page=_int(a, "page"),
        paging_cookie=a.get("paging-cookie") or None,
        distinct=_bool(a, "distinct"),
        aggregate=_bool(a, "aggregate"),
        return_total=_bool(a, "returntotalrecordcount"),
        raw_order=_bool(a, "useraworderby"),
    )
    if spec.top is not None and (spec.count is not None or spec.page is not None or spec.paging_cookie):
        raise QueryOptionError("The fetch 'top' attribute cannot be combined with 'count', 'page' or 'paging-cookie'.")
    if spec.top is not None and spec.return_total:
        raise QueryOptionError("The fetch 'top' attribute cannot be combined with 'returntotalrecordcount'.")
    if spec.top is not None and spec.top > 5000:
        raise QueryOptionError(f"The fetch 'top' attribute must be between 1 and 5000; got {spec.top}.")
    return spec


def _entity(element: Element, spec: EntitySpec) -> EntitySpec:
    allowed = {"attribute", "all-attributes", "no-attrs", "order", "filter", "link-entity"}
    _only(element, allowed)
    spec.alias = element.attrib.get("alias") or None
    for child in element.children:
        if child.tag == "attribute":
            spec.attributes.append(_attribute(child))
        elif child.tag == "all-attributes":
            spec.all_attributes = True
        elif child.tag == "order":
            spec.orders.append(_order(child))
        elif child.tag == "filter":
            spec.filters.append(_filter(child))
        elif child.tag == "link-entity":
            spec.links.append(_link(child))
    return spec


def _link(element: Element) -> LinkSpec:
    a = element.attrib
    link = LinkSpec(
        _name(element, "link-entity"),
        from_=(a.get("from") or "").strip().lower() or None,
        to=(a.get("to") or "").strip().lower() or None,
        link_type=(a.get("link-type") or "inner").strip().lower(),
    )
    return _entity(element, link)  # type: ignore[return-value]


def _attribute(element: Element) -> AttributeSpec:
    a = element.attrib
    aggregate = (a.get("aggregate") or "").strip().lower() or None
    if aggregate is not None and aggregate not in AGGREGATES:
        raise QueryOptionError(
            f"'{aggregate}' is not a valid aggregate; use one of {', '.join(AGGREGATES)}.", target="fetchXml"
        )
    dategrouping = (a.get("dategrouping") or "").strip().lower() or None
    return AttributeSpec(
        name=_name(element, "attribute"),
        alias=a.get("alias") or None,
        aggregate=aggregate,
        distinct=_bool(a, "distinct"),
        groupby=_bool(a, "groupby"),
        dategrouping=dategrouping,
    )


def _order(element: Element) -> OrderSpec:
    a = element.attrib
    attribute = (a.get("attribute") or "").strip().lower() or None
    alias = a.get("alias") or None
    if attribute is None and alias is None:
        raise QueryOptionError("An 'order' element needs an 'attribute' or an 'alias'.", target="fetchXml")
    return OrderSpec(
        attribute=attribute, alias=alias, descending=_bool(a, "descending"), entityname=a.get("entityname") or None
    )


def _filter(element: Element) -> FilterSpec:
    _only(element, {"condition", "filter", "link-entity"})
    kind = (element.attrib.get("type") or "and").strip().lower()
    if kind not in ("and", "or"):
        raise QueryOptionError(f"A filter type must be 'and' or 'or', not '{kind}'.", target="fetchXml")
    spec = FilterSpec(kind)
    for child in element.children:
        if child.tag == "condition":
            spec.items.append(_condition(child))
        elif child.tag == "filter":
            spec.items.append(_filter(child))
        else:
            spec.items.append(_link(child))
    return spec


def _condition(element: Element) -> ConditionSpec:
    _only(element, {"value"})
    a = element.attrib
    attribute = (a.get("attribute") or "").strip().lower()
    if not attribute:
        raise QueryOptionError("A 'condition' element needs an 'attribute'.", target="fetchXml")
    operator = (a.get("operator") or "").strip().lower()
    if not operator:
        raise QueryOptionError(f"The condition on '{attribute}' has no 'operator'.", target="fetchXml")
    valueof = (a.get("valueof") or "").strip().lower() or None
    return ConditionSpec(
        attribute=attribute,
        operator=operator,
        value=a.get("value"),
        values=tuple(child.text for child in element.children),
        entityname=a.get("entityname") or None,
        valueof=valueof,
    )


# --- helpers -------------------------------------------------------------------------------------------------------


def _only(element: Element, allowed: set[str]) -> None:
    for child in element.children:
        if child.tag not in allowed:
            raise QueryOptionError(f"The element '{child.tag}' is not valid inside '{element.tag}'.", target="fetchXml")


def _name(element: Element, what: str) -> str:
    name = (element.attrib.get("name") or "").strip().lower()
    if not name:
        raise QueryOptionError(f"The '{what}' element needs a 'name' attribute.", target="fetchXml")
    return name


def _bool(attrib: dict[str, str], name: str) -> bool:
    raw = attrib.get(name)
    if raw is None or raw.strip() == "":
        return False
    value = raw.strip().lower()
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise QueryOptionError(f"The '{name}' attribute must be 'true' or 'false'; got '{raw}'.", target="fetchXml")


def _int(attrib: dict[str, str], name: str) -> int | None:
    raw = attrib.get(name)
    if raw is None or raw.strip() == "":
        return None
    text = raw.strip()
    if not _DIGITS.fullmatch(text) or int(text) < 1:
        raise QueryOptionError(
            f"The '{name}' attribute must be a positive whole number; got '{raw}'.", target="fetchXml"
        )
    return int(text)
