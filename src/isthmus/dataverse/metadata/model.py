"""What a Dataverse table is made of, as frozen values: ``Table`` with its ``Column``s, ``OptionSet`` choices,
``Relationship``s (one-to-many and many-to-many) and ``AlternateKey``s.

Names follow Dataverse: logical names are lower case (``account``, ``creditlimit``), schema names are Pascal case
(``Account``, ``CreditLimit``), an entity set name is the plural used in URLs (``accounts``). Every id is a GUID.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import Literal

AttributeType = Literal[
    "String", "Memo", "Integer", "BigInt", "Decimal", "Double", "Money", "Boolean", "DateTime",
    "Picklist", "State", "Status", "Lookup", "Customer", "Owner", "Uniqueidentifier",
]
ATTRIBUTE_TYPES: tuple[str, ...] = AttributeType.__args__  # type: ignore[attr-defined]
RequiredLevel = Literal["None", "Recommended", "ApplicationRequired", "SystemRequired"]
OwnershipType = Literal["UserOwned", "OrganizationOwned", "None"]

# Deterministic ids: the same standard table or column has the same MetadataId in every environment.
_NAMESPACE = uuid.UUID("6f1c3c8e-3b7a-4f32-9d0e-5a8e1e2d7c41")


def metadata_id(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


@dataclass(frozen=True)
class Option:
    value: int
    label: str
    state: int | None = None
    """For status reasons: the state (statecode value) this reason belongs to."""


@dataclass(frozen=True)
class OptionSet:
    name: str
    options: tuple[Option, ...]
    is_global: bool = False

    def label(self, value: int | None) -> str | None:
        return next((o.label for o in self.options if o.value == value), None)

    def value_of(self, label: str) -> int | None:
        return next((o.value for o in self.options if o.label.lower() == label.lower()), None)

    @property
    def values(self) -> tuple[int, ...]:
        return tuple(o.value for o in self.options)


@dataclass(frozen=True)
class Column:
    logical_name: str
    type: AttributeType
    schema_name: str = ""
    display_name: str = ""
    description: str = ""
    required: RequiredLevel = "None"
    max_length: int | None = None
    precision: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    option_set: OptionSet | None = None
    targets: tuple[str, ...] = ()
    """Tables a lookup may point to (several for Customer and Owner lookups)."""
    is_custom: bool = False
    valid_for_create: bool = True
    valid_for_update: bool = True
    is_primary_id: bool = False
    is_primary_name: bool = False
    format: str | None = None
    """String format (Email, Url, Phone...) or DateTime behaviour (DateOnly, DateAndTime)."""

    def __post_init__(self) -> None:
        if not self.schema_name:
            object.__setattr__(self, "schema_name", self.logical_name)
        if not self.display_name:
            object.__setattr__(self, "display_name", self.schema_name)

    @property
    def is_lookup(self) -> bool:
        return self.type in ("Lookup", "Customer", "Owner")

    @property
    def is_choice(self) -> bool:
        return self.type in ("Picklist", "State", "Status")

    @property
    def polymorphic(self) -> bool:
        return self.is_lookup and len(self.targets) > 1

    @property
    def value_property(self) -> str:
        """The Web API property that carries this column (``_parentaccountid_value`` for a lookup)."""
        return f"_{self.logical_name}_value" if self.is_lookup else self.logical_name


@dataclass(frozen=True)
class AlternateKey:
    logical_name: str
    columns: tuple[str, ...]
    schema_name: str = ""

    def __post_init__(self) -> None:
        if not self.schema_name:
            object.__setattr__(self, "schema_name", self.logical_name)


@dataclass(frozen=True)
class Relationship:
    """A one-to-many relationship (``referenced`` 1 : N ``referencing``) or a many-to-many one (``intersect``)."""

    schema_name: str
    kind: Literal["OneToMany", "ManyToMany"]
    referenced_table: str
    referencing_table: str
    referencing_column: str = ""
    """For one-to-many: the lookup column on the referencing (many) side."""
    referencing_navigation: str = ""
    """Single-valued navigation property on the referencing table (usually the lookup's name)."""
    referenced_navigation: str = ""
    """Collection navigation property on the referenced table."""
    intersect_table: str = ""
    """For many-to-many: the table holding the pairs."""
    is_custom: bool = False

    @property
    def metadata_id(self) -> str:
        return metadata_id("relationship", self.schema_name)


@dataclass(frozen=True)
class Table:
    logical_name: str
    entity_set_name: str
    primary_id: str
    primary_name: str | None
    columns: tuple[Column, ...]
    schema_name: str = ""
    display_name: str = ""
    display_collection_name: str = ""
    description: str = ""
    ownership: OwnershipType = "UserOwned"
    keys: tuple[AlternateKey, ...] = ()
    is_custom: bool = False
    object_type_code: int = 0
    data_provider: str | None = None
    """Name of the data provider the rows come from (virtual tables); ``None`` for rows stored here."""
    _by_name: dict[str, Column] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.schema_name:
            object.__setattr__(self, "schema_name", self.logical_name)
        if not self.display_name:
            object.__setattr__(self, "display_name", self.schema_name)
        if not self.display_collection_name:
            object.__setattr__(self, "display_collection_name", self.entity_set_name)
        self._by_name.update({c.logical_name: c for c in self.columns})

    @property
    def metadata_id(self) -> str:
        return metadata_id("table", self.logical_name)

    @property
    def is_virtual(self) -> bool:
        return self.data_provider is not None

    def column(self, logical_name: str) -> Column | None:
        return self._by_name.get(logical_name)

    def with_columns(self, *columns: Column) -> Table:
        return replace(self, columns=(*self.columns, *columns), _by_name={})

    def with_key(self, key: AlternateKey) -> Table:
        return replace(self, keys=(*self.keys, key), _by_name={})
