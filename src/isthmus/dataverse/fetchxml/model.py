"""What a FetchXML query is made of once parsed (``FetchSpec`` and its parts), and what running it gives back
(``FetchResult`` with its ``FetchColumn``s).

The spec classes mirror the XML one to one and hold text as the client sent it (names lower-cased); meaning is given
to them by the compiler, which checks every name against the metadata.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from isthmus.dataverse.metadata.model import Column

# --- results -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FetchColumn:
    """One property of the result rows.

    ``key`` is the property name: the attribute's logical name for the main entity (``_x_value`` for a lookup),
    ``alias.attribute`` for a link-entity attribute (alias = the link-entity's alias, or its name when absent), the
    attribute's own ``alias`` when it has one (always for aggregates). ``column`` is the metadata column the value is
    a value of, so that ``records.values.to_json``/``formatted`` apply to it; it is ``None`` when the value is not a
    value of the column: ``count``/``countcolumn`` aggregates and ``dategrouping`` groups (plain integers).
    """

    key: str
    column: Column | None
    table: str
    edm_type: str
    aggregate: str | None = None
    """``count``, ``countcolumn``, ``sum``, ``avg``, ``min`` or ``max`` for an aggregate value."""
    groupby: bool = False
    dategrouping: str | None = None
    """``year``, ``quarter``, ``month`` or ``day`` for a group by part of a date (the value is that integer)."""
    attribute: str | None = None
    """Logical name of the attribute the value comes from (``None`` only for ``count`` over rows)."""


@dataclass(frozen=True)
class FetchResult:
    entity: str
    columns: tuple[FetchColumn, ...]
    rows: list[dict[str, Any]]
    """Stored values keyed by ``FetchColumn.key`` (lookups as GUID text, money as ``Decimal``, date-times as aware
    UTC ``datetime``), plus ``<key>@lookuplogicalname`` for every non-null lookup value."""
    more_records: bool
    paging_cookie: str | None
    """``<cookie page="N"><pk last="{GUID}" first="{GUID}" /></cookie>`` for the page just returned (``N`` = this
    page); ``None`` when the page is empty or the fetch used ``top``."""
    page: int
    total_count: int | None
    """With ``returntotalrecordcount="true"``: the number of matching rows, at most 5000 (as Dataverse)."""
    total_count_limit_exceeded: bool = False


# --- the parsed query ------------------------------------------------------------------------------------------------


@dataclass
class AttributeSpec:
    name: str
    alias: str | None = None
    aggregate: str | None = None
    distinct: bool = False
    groupby: bool = False
    dategrouping: str | None = None


@dataclass
class OrderSpec:
    attribute: str | None = None
    alias: str | None = None
    descending: bool = False
    entityname: str | None = None


@dataclass
class ConditionSpec:
    attribute: str
    operator: str
    value: str | None = None
    """The ``value`` attribute, when present."""
    values: tuple[str, ...] = ()
    """The ``<value>`` children, in order."""
    entityname: str | None = None
    valueof: str | None = None


@dataclass
class FilterSpec:
    type: str = "and"
    items: list[Union[ConditionSpec, "FilterSpec", "LinkSpec"]] = field(default_factory=list)


@dataclass
class EntitySpec:
    name: str
    alias: str | None = None
    attributes: list[AttributeSpec] = field(default_factory=list)
    all_attributes: bool = False
    orders: list[OrderSpec] = field(default_factory=list)
    filters: list[FilterSpec] = field(default_factory=list)
    links: list[LinkSpec] = field(default_factory=list)


@dataclass
class LinkSpec(EntitySpec):
    from_: str | None = None
    """Column on the linked entity."""
    to: str | None = None
    """Column on the parent entity."""
    link_type: str = "inner"


@dataclass
class FetchSpec:
    entity: EntitySpec
    top: int | None = None
    count: int | None = None
    page: int | None = None
    paging_cookie: str | None = None
    distinct: bool = False
    aggregate: bool = False
    return_total: bool = False
    raw_order: bool = False
    """``useraworderby``: order choice columns by value instead of label."""
