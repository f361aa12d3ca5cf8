"""What a data entity is: a public, named view of ERP tables with typed fields, keys, navigation to other entities,
bound actions, and a writer that sends creates, updates and deletes through the business logic.

This mirrors finance and operations, where data entities (``CustCustomerV3Entity``, public collection ``CustomersV3``)
sit over tables and are the only thing integrations see.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Table
from sqlalchemy.sql import ColumnElement

from isthmus.odata.edm import EnumType, Parameter
from isthmus.storage import UnitOfWork

NAMESPACE = "Microsoft.Dynamics.DataEntities"


@dataclass(frozen=True)
class Codec:
    """How a stored value becomes the API value and back (e.g. a boolean column shown as the NoYes enum)."""

    to_api: Callable[[Any], Any]
    to_storage: Callable[[Any], Any]


@dataclass(frozen=True)
class EntityField:
    name: str
    column: Any
    """The SQL expression read for this field (a column of the entity's tables, or a computed expression)."""
    type: str
    key: bool = False
    mandatory: bool = False
    read_only: bool = False
    max_length: int | None = None
    enum: EnumType | None = None
    codec: Codec | None = None
    label: str | None = None

    @property
    def storage(self) -> str | None:
        """The column written for this field, or ``None`` when it is computed."""
        return getattr(self.column, "key", None) if not self.read_only else None

    @property
    def edm_type(self) -> str:
        return f"{NAMESPACE}.{self.enum.name}" if self.enum else self.type


@dataclass(frozen=True)
class Navigation:
    name: str
    target: str
    """Entity set name of the target entity."""
    collection: bool
    pairs: tuple[tuple[str, str], ...]
    """(field on this entity, field on the target) pairs that join them."""


class EntityWriter(Protocol):
    """Sends writes through the business logic. Values are keyed by storage column."""

    def create(self, uow: UnitOfWork, company: str | None, values: dict[str, Any]) -> dict[str, Any]: ...

    def update(self, uow: UnitOfWork, company: str | None, row: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]: ...

    def delete(self, uow: UnitOfWork, company: str | None, row: dict[str, Any]) -> None: ...


ActionHandler = Callable[[UnitOfWork, str | None, dict[str, Any], dict[str, Any]], Any]


@dataclass(frozen=True)
class EntityAction:
    """A bound action (``[SysODataActionAttribute]`` in finance and operations). The handler gets the entity's stored
    row and the parameters; it returns the stored row to answer with (``returns="entity"``) or a primitive value."""

    name: str
    handler: ActionHandler
    parameters: tuple[Parameter, ...] = ()
    returns: str | None = "entity"
    description: str = ""


@dataclass(frozen=True)
class DataEntity:
    name: str
    """Public entity name (``CustomerV3``)."""
    set_name: str
    """Public collection name (``CustomersV3``)."""
    physical_name: str
    """Physical entity name (``CustCustomerV3Entity``); virtual entities are named after it."""
    table: Table
    """The table writes go to and whose ``recid``/``recversion`` identify a row."""
    fields: tuple[EntityField, ...]
    label: str
    category: str
    source: Any = None
    """FROM clause when the entity reads more than ``table`` (a join); ``None`` means ``table``."""
    company_column: Any = None
    """The ``dataareaid`` column when the entity is per company."""
    navigation: tuple[Navigation, ...] = ()
    actions: tuple[EntityAction, ...] = ()
    writer: EntityWriter | None = None
    _fields: dict[str, EntityField] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._fields.update({f.name: f for f in self.fields})

    @property
    def read_only(self) -> bool:
        return self.writer is None

    @property
    def from_clause(self) -> Any:
        return self.source if self.source is not None else self.table

    @property
    def keys(self) -> tuple[EntityField, ...]:
        return tuple(f for f in self.fields if f.key)

    def field(self, name: str) -> EntityField | None:
        return self._fields.get(name)

    def navigation_property(self, name: str) -> Navigation | None:
        return next((n for n in self.navigation if n.name == name), None)

    def action(self, name: str) -> EntityAction | None:
        return next((a for a in self.actions if a.name == name), None)

    @property
    def version_column(self) -> ColumnElement[Any]:
        return self.table.c.recversion
