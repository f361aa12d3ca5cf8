"""The Dataverse metadata endpoints: ``EntityDefinitions`` (tables) with their ``Attributes`` (columns, with type
casts such as ``Microsoft.Dynamics.CRM.PicklistAttributeMetadata``), ``Keys`` and relationships,
``RelationshipDefinitions``, ``CreateEntities``, ``GlobalOptionSetDefinitions`` and ``RetrieveMetadataChanges``.

Reads filter and project the JSON shapes in memory (metadata is small); writes go to the metadata store, which
alters the physical schema in the same transaction, and then give new tables their SDK message filters.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from isthmus.api.http import empty_response, json_response, read_json
from isthmus.dataverse.environment import DataverseEnvironment
from isthmus.dataverse.metadata import create_bodies, shapes
from isthmus.dataverse.metadata.model import Table, metadata_id
from isthmus.errors import MethodNotAllowedError, NotFoundError, ValidationError
from isthmus.odata.query import parse_query_options
from isthmus.odata.query.memory import matches
from isthmus.odata.query.options import QueryOptions
from isthmus.odata.resource import Segment

NAMESPACE = "Microsoft.Dynamics.CRM."
HANDLED = ("EntityDefinitions", "RelationshipDefinitions", "CreateEntities", "GlobalOptionSetDefinitions",
           "RetrieveMetadataChanges")
OPTIONS = frozenset({"$select", "$filter", "$expand", "$orderby", "$top", "$count", "$format"})
ENTITY_CHILDREN = ("Attributes", "Keys", "OneToManyRelationships", "ManyToOneRelationships", "ManyToManyRelationships")


class MetadataApi:
    def __init__(self, environment: DataverseEnvironment) -> None:
        self.environment = environment

    def handles(self, name: str) -> bool:
        return name in HANDLED or name.startswith("RetrieveMetadataChanges")

    async def handle(self, request: Request, segments: list[Segment], params: list[tuple[str, str]], root: str) -> Response:
        first = segments[0]
        if first.name == "CreateEntities":
            return await self._create_entities(request, root)
        if first.name == "GlobalOptionSetDefinitions":
            return json_response({"@odata.context": f"{root}/$metadata#GlobalOptionSetDefinitions", "value": []})
        if first.name.startswith("RetrieveMetadataChanges"):
            return self._metadata_changes(params, root)
        if first.name == "RelationshipDefinitions":
            return await self._relationships(request, first, params, root)
        return await self._entities(request, segments, params, root)

    @property
    def registry(self):  # type: ignore[no-untyped-def]
        return self.environment.registry

    # --- EntityDefinitions ----------------------------------------------------------------------------------

    async def _entities(self, request: Request, segments: list[Segment], params: list[tuple[str, str]], root: str) -> Response:
        first = segments[0]
        method = request.method
        options = parse_query_options(params, supported=OPTIONS)
        if first.key is None:
            if len(segments) != 1:
                raise NotFoundError("Address one table: EntityDefinitions(LogicalName='account') or EntityDefinitions(<id>).")
            if method == "POST":
                body = await read_json(request, 4 * 1024 * 1024)
                table = create_bodies.table_from_create_body(body, object_type_code=shapes.next_object_type_code(self.registry))
                self._change(lambda store, conn: store.create_table(conn, table))
                return self._created(root, f"EntityDefinitions({table.metadata_id})")
            _allow(method, "GET")
            items = [self._entity(t, options) for t in self.registry.tables.values()]
            return self._collection(root, "EntityDefinitions", items, options)
        table = self._table(first)
        if len(segments) == 1:
            if method == "GET":
                return json_response({"@odata.context": f"{root}/$metadata#EntityDefinitions/$entity", **self._entity(table, options)})
            if method == "DELETE":
                self._change(lambda store, conn: store.delete_table(conn, table.logical_name))
                return empty_response(204)
            if method in ("PUT", "PATCH"):
                return empty_response(204)  # labels and managed properties are not kept; the table is unchanged
            raise MethodNotAllowedError(f"{method} is not allowed on a table definition.")
        child = segments[1]
        cast = segments[2].name if len(segments) > 2 else None
        if child.name == "Attributes":
            return await self._attributes(request, table, child, cast, options, root, segments)
        if child.name == "Keys":
            return await self._keys(request, table, child, options, root)
        if child.name in ENTITY_CHILDREN:
            _allow(method, "GET")
            kind = child.name.removesuffix("Relationships")
            items = [shapes.relationship_metadata(r, self.registry) if kind != "ManyToOne" else shapes.many_to_one_metadata(r, self.registry)
                     for r in shapes.relationships_of(table, self.registry, kind)]
            return self._collection(root, f"EntityDefinitions({table.metadata_id})/{child.name}", items, options)
        raise NotFoundError(f"Resource not found for the segment '{child.name}'.", code="0x80060888")

    def _entity(self, table: Table, options: QueryOptions) -> dict[str, Any]:
        expand = {e.path[0] for e in options.expand}
        unknown = expand - set(ENTITY_CHILDREN)
        if unknown:
            raise ValidationError(f"Cannot expand {', '.join(sorted(unknown))} on EntityDefinitions.", target="$expand")
        shape = shapes.entity_metadata(table, self.registry, expand=expand)
        for item in options.expand:
            nested = shape.get(item.path[0])
            if isinstance(nested, list):
                shape[item.path[0]] = _apply(nested, item.options)
        return _project(shape, options.select, keep=tuple(item.path[0] for item in options.expand))

    def _table(self, segment: Segment) -> Table:
        key = _key_text(segment, "LogicalName")
        table = shapes.find_table(self.registry, key)
        if table is None:
            raise NotFoundError(f"Could not find an entity with key {key!r}.", code="0x80040217")
        return table

    # --- Attributes and Keys ------------------------------------------------------------------------------

    async def _attributes(self, request, table, child, cast, options, root, segments):  # type: ignore[no-untyped-def]
        method = request.method
        type_name = cast.removeprefix(NAMESPACE) if cast else None
        if child.key is None:
            if method == "POST":
                body = await read_json(request, 1024 * 1024)
                column = create_bodies.column_from_create_body(body, table=table.logical_name)
                self._change(lambda store, conn: store.add_column(conn, table.logical_name, column))
                return self._created(root, f"EntityDefinitions({table.metadata_id})/Attributes({metadata_id('attribute', table.logical_name, column.logical_name)})")
            _allow(method, "GET")
            columns = [c for c in table.columns if type_name is None or shapes.attribute_odata_type(c) == type_name]
            items = [_project_nested(shapes.attribute_metadata(table, c), options) for c in columns]
            return self._collection(root, f"EntityDefinitions({table.metadata_id})/Attributes", items, options, project=False)
        key = _key_text(child, "LogicalName")
        column = shapes.find_column(table, key)
        if column is None:
            raise NotFoundError(f"Could not find an attribute {key!r} on {table.logical_name}.", code="0x80040217")
        if type_name is not None and shapes.attribute_odata_type(column) != type_name:
            raise NotFoundError(f"{table.logical_name}.{column.logical_name} is not a {type_name}.")
        if method == "GET":
            shape = _project_nested(shapes.attribute_metadata(table, column), options)
            return json_response({"@odata.context": f"{root}/$metadata#EntityDefinitions({table.metadata_id})/Attributes/$entity", **shape})
        if method == "DELETE":
            self._change(lambda store, conn: store.delete_column(conn, table.logical_name, column.logical_name))
            return empty_response(204)
        if method in ("PUT", "PATCH"):
            return empty_response(204)  # label updates (MSCRM.MergeLabels) are accepted; labels are not kept
        raise MethodNotAllowedError(f"{method} is not allowed on an attribute.")

    async def _keys(self, request, table, child, options, root):  # type: ignore[no-untyped-def]
        method = request.method
        if child.key is None:
            if method == "POST":
                body = await read_json(request, 1024 * 1024)
                key = create_bodies.key_from_create_body(body, table)
                self._change(lambda store, conn: store.add_key(conn, table.logical_name, key))
                return self._created(root, f"EntityDefinitions({table.metadata_id})/Keys({metadata_id('key', table.logical_name, key.logical_name)})")
            _allow(method, "GET")
            items = [shapes.key_metadata(table, k) for k in table.keys]
            return self._collection(root, f"EntityDefinitions({table.metadata_id})/Keys", items, options)
        found = shapes.find_key(table, _key_text(child, "LogicalName"))
        if found is None:
            raise NotFoundError(f"{table.logical_name} has no such key.", code="0x80040217")
        if method == "GET":
            return json_response({"@odata.context": f"{root}/$metadata#EntityDefinitions({table.metadata_id})/Keys/$entity",
                                  **_project(shapes.key_metadata(table, found), options.select)})
        if method == "DELETE":
            self._change(lambda store, conn: store.delete_key(conn, table.logical_name, found.logical_name))
            return empty_response(204)
        raise MethodNotAllowedError(f"{method} is not allowed on a key.")

    # --- RelationshipDefinitions, CreateEntities, RetrieveMetadataChanges ---------------------------------

    async def _relationships(self, request: Request, first: Segment, params: list[tuple[str, str]], root: str) -> Response:
        options = parse_query_options(params, supported=OPTIONS)
        registry = self.registry
        if first.key is None:
            if request.method == "POST":
                body = await read_json(request, 1024 * 1024)
                relationship, lookup = create_bodies.relationship_from_create_body(body)

                def apply(store, conn):  # type: ignore[no-untyped-def]
                    if relationship.kind == "ManyToMany":
                        store.create_table(conn, shapes.intersect_table(relationship, store.registry))
                    store.add_relationship(conn, relationship)
                    if lookup is not None:
                        store.add_column(conn, relationship.referencing_table, lookup)

                self._change(apply)
                return self._created(root, f"RelationshipDefinitions({relationship.metadata_id})")
            _allow(request.method, "GET")
            items = [shapes.relationship_metadata(r, registry) for r in shapes.effective_relationships(registry)]
            return self._collection(root, "RelationshipDefinitions", items, options)
        key = _key_text(first, "SchemaName")
        relationship = shapes.find_relationship(registry, key)
        if relationship is None:
            raise NotFoundError(f"Could not find a relationship {key!r}.", code="0x80040217")
        if request.method == "GET":
            return json_response({"@odata.context": f"{root}/$metadata#RelationshipDefinitions/$entity",
                                  **_project(shapes.relationship_metadata(relationship, registry), options.select)})
        if request.method == "DELETE":
            self._change(lambda store, conn: store.delete_relationship(conn, relationship.schema_name))
            return empty_response(204)
        raise MethodNotAllowedError(f"{request.method} is not allowed on a relationship.")

    async def _create_entities(self, request: Request, root: str) -> Response:
        _allow(request.method, "POST")
        body = await read_json(request, 4 * 1024 * 1024)
        tables = create_bodies.tables_from_create_entities(body, self.registry)

        def apply(store, conn):  # type: ignore[no-untyped-def]
            for table in tables:
                store.create_table(conn, table)

        self._change(apply)
        return json_response({"@odata.context": f"{root}/$metadata#Microsoft.Dynamics.CRM.CreateEntitiesResponse",
                              "EntityIds": [t.metadata_id for t in tables]})

    def _metadata_changes(self, params: list[tuple[str, str]], root: str) -> Response:
        entities = [shapes.entity_metadata(t, self.registry, expand={"Attributes"}) for t in self.registry.tables.values()]
        return json_response({
            "@odata.context": f"{root}/$metadata#Microsoft.Dynamics.CRM.RetrieveMetadataChangesResponse",
            "EntityMetadata": entities,
            "ServerVersionStamp": str(self.registry.version),
            "DeletedMetadata": None,
        })

    # --- helpers ----------------------------------------------------------------------------------------------

    def _change(self, apply) -> None:  # type: ignore[no-untyped-def]
        store = self.environment.store
        try:
            with self.environment.database.engine.begin() as conn:
                apply(store, conn)
        except BaseException:
            store.invalidate()  # the cached registry may hold the rolled-back change
            raise
        self.environment.sync_message_filters()

    def _created(self, root: str, path: str) -> Response:
        url = f"{root}/{path}"
        return empty_response(204, {"OData-EntityId": url, "Location": url})

    def _collection(self, root: str, context: str, items: list[dict[str, Any]], options: QueryOptions, *, project: bool = True) -> Response:
        rows = _apply(items, options, project=project)
        payload: dict[str, Any] = {"@odata.context": f"{root}/$metadata#{context}"}
        if options.count:
            payload["@odata.count"] = len(rows)
        payload["value"] = rows
        return json_response(payload)


def _allow(method: str, *allowed: str) -> None:
    if method not in allowed:
        raise MethodNotAllowedError(f"{method} is not allowed here; use {' or '.join(allowed)}.")


def _key_text(segment: Segment, name: str) -> str:
    pairs = dict(segment.key or ())
    value = pairs.get(name, pairs.get(None))
    if value is None:
        raise ValidationError(f"Address it by its id or ({name}='…').")
    return str(value)


def _apply(items: list[dict[str, Any]], options: QueryOptions, *, project: bool = True) -> list[dict[str, Any]]:
    rows = [i for i in items if options.filter is None or matches(options.filter, i)]
    for order in reversed(options.orderby):
        rows.sort(key=lambda r: (r.get(order.path[0]) is None, r.get(order.path[0])), reverse=order.descending)
    if options.top is not None:
        rows = rows[: options.top]
    return [_project(r, options.select) for r in rows] if project else rows


def _project(shape: dict[str, Any], select: tuple[tuple[str, ...], ...] | None, keep: tuple[str, ...] = ()) -> dict[str, Any]:
    """Keep the selected properties, plus MetadataId and @odata.type, which Dataverse always returns and clients need."""
    if select is None:
        return shape
    wanted = {p[0] for p in select} | {"MetadataId", "@odata.type", *keep}
    return {k: v for k, v in shape.items() if k in wanted}


def _project_nested(shape: dict[str, Any], options: QueryOptions) -> dict[str, Any]:
    """$select plus an $expand of a nested object such as OptionSet($select=Options)."""
    projected = _project(shape, options.select, keep=tuple(item.path[0] for item in options.expand))
    for item in options.expand:
        nested = shape.get(item.path[0])
        if isinstance(nested, dict):
            projected[item.path[0]] = _project(nested, item.options.select)
    return projected

