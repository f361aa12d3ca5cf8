"""The Web API's ``$metadata``: CSDL for a registry, in Dataverse's namespace ``Microsoft.Dynamics.CRM``
(alias ``mscrm``), rendered by the shared ``odata.csdl`` renderer.

One entity type per table, derived from the abstract ``crmbaseentity``, keyed by its primary id. Columns are
properties typed as the record values are (``records.values.edm_type``); a lookup is the ``_<lookup>_value``
property, as in the JSON. Navigation properties come from the registry: single-valued ones carry the
referential constraint from the lookup's value property to the target's primary id; collection-valued ones
(one-to-many and many-to-many) are ``Collection(mscrm.<target>)``. The ``System`` container holds an entity
set per table, the ``WhoAmI`` function import, and the bound bulk actions ``CreateMultiple``,
``UpdateMultiple`` and ``UpsertMultiple`` (bound to ``Collection(mscrm.crmbaseentity)``).

``render`` caches its text per registry: a registry is immutable, and a metadata change builds a new one.
"""

from __future__ import annotations

import weakref

from isthmus.dataverse.metadata.model import Table
from isthmus.dataverse.metadata.registry import Navigation, Registry
from isthmus.dataverse.metadata.shapes import effective_relationships
from isthmus.dataverse.records.values import edm_type
from isthmus.odata import csdl, edm

NAMESPACE = "Microsoft.Dynamics.CRM"
ALIAS = "mscrm"
CONTAINER = "System"
BASE_ENTITY = "crmbaseentity"

_cache: weakref.WeakKeyDictionary[Registry, str] = weakref.WeakKeyDictionary()


def _qualified(name: str) -> str:
    return f"{ALIAS}.{name}"


def render(registry: Registry) -> str:
    """The ``$metadata`` document of ``registry``."""
    text = _cache.get(registry)
    if text is None:
        text = csdl.render(schema(registry))
        _cache[registry] = text
    return text


def schema(registry: Registry) -> edm.Schema:
    """The EDM schema ``$metadata`` describes."""
    shown = set(effective_relationships(registry))
    tables = sorted(registry.tables.values(), key=lambda t: t.logical_name)
    entity_types = [edm.EntityType(BASE_ENTITY, (), (), abstract=True)]
    entity_sets = []
    for table in tables:
        navigations = [n for n in registry.navigations(table.logical_name) if n.relationship in shown]
        entity_types.append(_entity_type(table, navigations))
        bindings = tuple(
            (n.name, registry.tables[n.target].entity_set_name)
            for n in navigations
            if n.target in registry.tables
        )
        entity_sets.append(
            edm.EntitySet(table.entity_set_name, f"{NAMESPACE}.{table.logical_name}", bindings)
        )
    targets = edm.Parameter("Targets", f"Collection({_qualified(BASE_ENTITY)})", nullable=False)
    return edm.Schema(
        namespace=NAMESPACE,
        alias=ALIAS,
        container=CONTAINER,
        entity_types=tuple(entity_types),
        entity_sets=tuple(entity_sets),
        complex_types=(
            edm.ComplexType(
                "WhoAmIResponse",
                tuple(
                    edm.Property(name, "Edm.Guid", nullable=False)
                    for name in ("BusinessUnitId", "UserId", "OrganizationId")
                ),
            ),
            edm.ComplexType(
                "CreateMultipleResponse", (edm.Property("Ids", "Collection(Edm.Guid)", nullable=False),)
            ),
            edm.ComplexType(
                "UpsertMultipleResponse", (edm.Property("Ids", "Collection(Edm.Guid)", nullable=False),)
            ),
        ),
        functions=(edm.Function("WhoAmI", return_type=_qualified("WhoAmIResponse"), return_nullable=False),),
        function_imports=(edm.FunctionImport("WhoAmI", _qualified("WhoAmI")),),
        actions=tuple(
            edm.Action(
                name,
                _qualified(BASE_ENTITY),
                (targets,),
                _qualified(returns) if returns else None,
                collection_bound=True,
                binding_parameter="entityset",
            )
            for name, returns in (
                ("CreateMultiple", "CreateMultipleResponse"),
                ("UpdateMultiple", None),
                ("UpsertMultiple", "UpsertMultipleResponse"),
            )
        ),
    )


def _entity_type(table: Table, navigations: list[Navigation]) -> edm.EntityType:
    properties = tuple(
        edm.Property(c.value_property, edm_type(c), nullable=not c.is_primary_id) for c in table.columns
    )
    return edm.EntityType(
        table.logical_name,
        (table.primary_id,),
        properties,
        tuple(_navigation(table, n) for n in navigations),
        base_type=_qualified(BASE_ENTITY),
    )


def _navigation(table: Table, nav: Navigation) -> edm.NavigationProperty:
    target = _qualified(nav.target)
    r = nav.relationship
    if nav.kind == "single":
        lookup = table.column(nav.local_column)
        local = lookup.value_property if lookup is not None else f"_{nav.local_column}_value"
        return edm.NavigationProperty(
            nav.name,
            target,
            False,
            constraints=((local, nav.remote_column),),
            partner=r.referenced_navigation,
        )
    if nav.kind == "collection":
        return edm.NavigationProperty(nav.name, target, True, partner=r.referencing_navigation)
    self_referencing = r.referenced_table == r.referencing_table
    return edm.NavigationProperty(nav.name, target, True, partner=None if self_referencing else nav.name)
