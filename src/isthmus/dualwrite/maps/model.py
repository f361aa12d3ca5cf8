"""What a dual-write table map is: one ERP data entity paired with one Dataverse table, the integration key that
matches their rows, the column mappings with a direction each, transforms, one filter per side and company striping.

The vocabulary is Microsoft's (``../shared/reference/dual-write.md`` §4): a mapping is written
``ERPFIELD <symbol> dataversecolumn`` with the symbols ``=`` and ``><`` (both ways, the second with a value map),
``>``/``>>`` (ERP to Dataverse) and ``<``/``<<`` (Dataverse to ERP); ``none`` stands for "no column on this side"
and comes with a default. Lookups are dotted paths through the related table's key
(``msdyn_customergroupid.msdyn_groupid``), polymorphic ones name each target
(``customerid.account(accountnumber).contact(msdyn_contactpersonid)``).

The model is plain frozen data: ``parse`` builds it from a file, ``bind`` checks it against the two apps' metadata.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Direction = Literal["both", "to_dataverse", "to_erp"]
SYMBOLS: dict[str, Direction] = {
    "=": "both",
    "><": "both",
    ">": "to_dataverse",
    ">>": "to_dataverse",
    "<": "to_erp",
    "<<": "to_erp",
}
NONE = "none"


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""No default given (distinct from a default of null)."""


@dataclass(frozen=True)
class LookupTarget:
    """One table a lookup may point to and the column of it that the ERP value matches."""

    table: str
    key: str


@dataclass(frozen=True)
class LookupPath:
    """``column.key`` (one target) or ``column.table(key).table(key)`` (a polymorphic lookup)."""

    column: str
    targets: tuple[LookupTarget, ...]
    """Empty until bound when the path names no table (the lookup's single target table is taken)."""
    key: str | None = None
    """The key column when the path is ``column.key``."""


@dataclass(frozen=True)
class ColumnMapping:
    """One line of a map: an ERP field and a Dataverse column (or ``none`` on one side), a direction, transforms."""

    erp: str | None
    dataverse: str | None
    """A column name, or the lookup path text (``msdyn_customergroupid.msdyn_groupid``)."""
    direction: Direction
    symbol: str
    value_map: tuple[tuple[Any, Any], ...] = ()
    """(ERP value, Dataverse value) pairs; each side's value translates to the other's."""
    default: Any = MISSING
    """Written on the receiving side when the sending side has no value (or no column: ``none``)."""
    lookup: LookupPath | None = None

    @property
    def text(self) -> str:
        return f"{self.erp or NONE} {self.symbol} {self.dataverse or NONE}"

    @property
    def dataverse_column(self) -> str | None:
        """The column written on the Dataverse side (the lookup column for a path)."""
        if self.lookup is not None:
            return self.lookup.column
        return self.dataverse

    def flows_to_dataverse(self) -> bool:
        return self.direction in ("both", "to_dataverse") and self.dataverse is not None

    def flows_to_erp(self) -> bool:
        return self.direction in ("both", "to_erp") and self.erp is not None

    def to_dataverse_value(self, value: Any) -> Any:
        if self.value_map and value is not None:
            for erp_value, dataverse_value in self.value_map:
                if erp_value == value:
                    return dataverse_value
            raise UnmappedValue(self, value, "Dataverse")
        return value

    def to_erp_value(self, value: Any) -> Any:
        if self.value_map and value is not None:
            for erp_value, dataverse_value in self.value_map:
                if dataverse_value == value:
                    return erp_value
            raise UnmappedValue(self, value, "the ERP")
        return value


class UnmappedValue(Exception):
    """A value the mapping's value map has no entry for (raised as a ``ValidationError`` by the converters)."""

    def __init__(self, mapping: ColumnMapping, value: Any, side: str) -> None:
        self.mapping = mapping
        self.value = value
        super().__init__(f"The value map of {mapping.text} has no entry for {value!r}, so it cannot be written to {side}.")


@dataclass(frozen=True)
class CompanyStriping:
    """How a company-specific map partitions rows: the ERP ``dataAreaId`` matches the Dataverse lookup to
    ``cdm_company`` through ``cdm_companycode``."""

    erp_field: str = "dataAreaId"
    dataverse_column: str = "msdyn_company"
    company_table: str = "cdm_company"
    company_key: str = "cdm_companycode"


@dataclass(frozen=True)
class TableMap:
    """A declarative, versioned dual-write table map."""

    name: str
    """Stable identifier (``customers-accounts``): the CLI, the API and ``depends_on`` use it."""
    title: str
    """What Microsoft calls the map (``Customers V3 (accounts)``)."""
    version: str
    erp_entity: str
    """Public collection name of the ERP data entity (``CustomersV3``)."""
    dataverse_table: str
    """Logical name of the Dataverse table (``account``)."""
    keys: tuple[tuple[str, str], ...]
    """The integration key: (ERP field, Dataverse column) pairs that identify a row on both sides."""
    columns: tuple[ColumnMapping, ...]
    company: CompanyStriping | None = None
    erp_filter: str | None = None
    """An OData ``$filter`` over the ERP entity's fields: only matching rows go to Dataverse."""
    dataverse_filter: str | None = None
    """An OData ``$filter`` over the Dataverse table's columns: only matching rows go to the ERP."""
    depends_on: tuple[str, ...] = ()
    """Maps whose rows this map's lookups point to; they run (and initial-sync) first."""
    description: str = ""
    publisher: str = "Isthmus"
    source: str | None = field(default=None, compare=False)
    """The file the map was read from, for messages."""

    @property
    def company_specific(self) -> bool:
        return self.company is not None

    def mapping_for_erp(self, name: str) -> ColumnMapping | None:
        return next((m for m in self.columns if m.erp == name), None)

    def mapping_for_dataverse(self, column: str) -> ColumnMapping | None:
        return next((m for m in self.columns if m.dataverse_column == column), None)

    @property
    def one_way(self) -> bool:
        """Every mapping flows ERP → Dataverse (Released products): Dataverse changes are not synced back."""
        return all(m.direction == "to_dataverse" for m in self.columns)
