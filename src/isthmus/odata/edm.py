"""The entity data model (EDM): entity types with their properties, keys and navigation properties, enum types,
complex types, entity sets, bound or unbound actions and functions (with function imports) — everything
``$metadata`` describes.

Values are frozen; an app builds its model once at start-up (or when its metadata changes) and shares it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

PRIMITIVE_TYPES = frozenset(
    {
        "Edm.String",
        "Edm.Int32",
        "Edm.Int64",
        "Edm.Decimal",
        "Edm.Double",
        "Edm.Boolean",
        "Edm.Date",
        "Edm.DateTimeOffset",
        "Edm.Guid",
        "Edm.Binary",
        "Edm.TimeOfDay",
    }
)


@dataclass(frozen=True)
class EnumType:
    name: str
    members: tuple[tuple[str, int], ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self.members)


@dataclass(frozen=True)
class Property:
    name: str
    type: str
    """``Edm.*`` for primitives, otherwise the qualified name of an enum type."""
    nullable: bool = True
    max_length: int | None = None
    precision: int | None = None
    scale: int | None = None

    @property
    def is_primitive(self) -> bool:
        return self.type in PRIMITIVE_TYPES


@dataclass(frozen=True)
class NavigationProperty:
    name: str
    target: str
    """Qualified name of the target entity type."""
    collection: bool
    constraints: tuple[tuple[str, str], ...] = ()
    """Referential constraints as (property on this type, property on the target)."""
    partner: str | None = None


@dataclass(frozen=True)
class EntityType:
    name: str
    key: tuple[str, ...]
    properties: tuple[Property, ...]
    navigation: tuple[NavigationProperty, ...] = ()
    base_type: str | None = None
    """Qualified name of the entity type this one derives from (``mscrm.crmbaseentity``)."""
    abstract: bool = False
    _by_name: dict[str, Property] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name.update({p.name: p for p in self.properties})

    def property(self, name: str) -> Property | None:
        return self._by_name.get(name)

    def navigation_property(self, name: str) -> NavigationProperty | None:
        return next((n for n in self.navigation if n.name == name), None)


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    nullable: bool = True


@dataclass(frozen=True)
class Action:
    name: str
    bound_to: str | None
    """Qualified name of the entity type the action is bound to, or ``None`` for an unbound action."""
    parameters: tuple[Parameter, ...] = ()
    return_type: str | None = None
    collection_bound: bool = False
    binding_parameter: str = "_this"
    """Name of the binding parameter of a bound action."""


@dataclass(frozen=True)
class Function:
    """A side-effect-free operation (``WhoAmI``), bound or unbound; an unbound one is exposed by a
    ``FunctionImport``."""

    name: str
    bound_to: str | None = None
    parameters: tuple[Parameter, ...] = ()
    return_type: str | None = None
    collection_bound: bool = False
    binding_parameter: str = "_this"
    return_nullable: bool = True
    composable: bool = False


@dataclass(frozen=True)
class FunctionImport:
    name: str
    function: str
    """Qualified name of the unbound function."""
    entity_set: str | None = None
    include_in_service_document: bool = False


@dataclass(frozen=True)
class ComplexType:
    """A structured type without a key (an action's or function's response, for example)."""

    name: str
    properties: tuple[Property, ...] = ()
    base_type: str | None = None
    abstract: bool = False


@dataclass(frozen=True)
class EntitySet:
    name: str
    entity_type: str
    """Qualified name of the entity type."""
    navigation_bindings: tuple[tuple[str, str], ...] = ()
    """(navigation property path, target entity set) pairs."""


@dataclass(frozen=True)
class Schema:
    namespace: str
    container: str
    entity_types: tuple[EntityType, ...]
    entity_sets: tuple[EntitySet, ...]
    enum_types: tuple[EnumType, ...] = ()
    actions: tuple[Action, ...] = ()
    alias: str | None = None
    complex_types: tuple[ComplexType, ...] = ()
    functions: tuple[Function, ...] = ()
    function_imports: tuple[FunctionImport, ...] = ()

    def qualified(self, name: str) -> str:
        return f"{self.namespace}.{name}"

    def entity_type(self, qualified_name: str) -> EntityType:
        short = qualified_name.rsplit(".", 1)[-1]
        return next(t for t in self.entity_types if t.name == short)

    def enum_type(self, qualified_name: str) -> EnumType | None:
        short = qualified_name.rsplit(".", 1)[-1]
        return next((e for e in self.enum_types if e.name == short), None)


def unique(items: Iterable[EnumType]) -> tuple[EnumType, ...]:
    """Enum types deduplicated by name, in first-seen order."""
    seen: dict[str, EnumType] = {}
    for item in items:
        seen.setdefault(item.name, item)
    return tuple(seen.values())
