"""The Dataverse Web API at ``/api/data/v9.2/``: records (create, retrieve, update, upsert, delete, query with OData
options, ``$apply`` and FetchXML), ``$count``, ``$batch``, the bulk actions, ``WhoAmI``, ``$metadata``; the metadata
endpoints (``EntityDefinitions``…) live in ``dataverse_metadata``.

URL shapes (``{S}`` an entity set, ``{K}`` a GUID or an alternate key)::

    GET  /api/data/v9.2/  |  $metadata  |  WhoAmI        POST $batch
    GET  {S}[?$select…|?$apply=…|?fetchXml=…]  GET {S}/$count   POST {S}
    POST {S}/Microsoft.Dynamics.CRM.CreateMultiple | UpdateMultiple | UpsertMultiple
    GET | PATCH | DELETE {S}({K})      GET {S}({K})/{navigation or property}
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, quote

from starlette.requests import Request
from starlette.responses import Response

from isthmus.api import dataverse_audit
from isthmus.api.callers import DataverseCallers
from isthmus.api.dataverse_metadata import MetadataApi
from isthmus.api.http import service_base, batch_error_response, empty_response, json_response, prefer, read_body, read_json
from isthmus.api.throttle import RequestLimiter
from isthmus.config import Settings
from isthmus.dataverse.aggregate_api import run_apply
from isthmus.dataverse.environment import DataverseEnvironment
from isthmus.dataverse.fetch_api import fetch_payload
from isthmus.dataverse.metadata import csdl as dv_csdl
from isthmus.dataverse.metadata.model import Table
from isthmus.dataverse.records.reads import MAX_PAGE_SIZE, PageRequest
from isthmus.dataverse.records.service import Caller
from isthmus.dataverse.records.shape import Annotations
from isthmus.errors import InvalidRequestError, MethodNotAllowedError, NotFoundError, NotSupportedError, ValidationError
from isthmus.odata.batch import execute_batch, parse_batch
from isthmus.odata.query import QueryOptions, parse_query_options
from isthmus.odata.resource import Segment, split_path

ROOT = "/api/data/v9.2"
SUPPORTED_OPTIONS = frozenset({"$filter", "$select", "$orderby", "$top", "$count", "$expand", "$apply", "$skiptoken", "$format"})
BULK = ("CreateMultiple", "UpdateMultiple", "UpsertMultiple")


class DataverseWebApi:
    def __init__(self, environment: DataverseEnvironment, settings: Settings) -> None:
        self.environment = environment
        self.settings = settings
        self.limiter = RequestLimiter(settings.dataverse_request_limit, settings.dataverse_request_window_s)
        self.metadata = MetadataApi(environment)
        self.callers = DataverseCallers(environment)

    @property
    def records(self):  # type: ignore[no-untyped-def]
        return self.environment.records

    def caller(self, request: Request) -> Caller:
        return self.callers.caller(request)

    def service_root(self, request: Request) -> str:
        return service_base(request) + ROOT

    async def handle(self, request: Request) -> Response:
        caller = self.caller(request)
        self.limiter.check(caller.user_id)
        raw_path: bytes = request.scope.get("raw_path") or request.scope["path"].encode()
        path = raw_path.decode("latin-1").split("?", 1)[0]
        root_path = request.scope.get("root_path", "")
        if root_path and path.startswith(root_path):
            path = path[len(root_path):]
        if not path.startswith(ROOT):
            raise NotFoundError(f"{path} is not under {ROOT}.")
        segments = split_path(path[len(ROOT):])
        params = parse_qsl(request.url.query, keep_blank_values=True)
        root = self.service_root(request)
        if not segments:
            _allow(request, "GET")
            return json_response({
                "@odata.context": f"{root}/$metadata",
                "value": [{"name": t.entity_set_name, "kind": "EntitySet", "url": t.entity_set_name}
                          for t in self.environment.registry.tables.values()],
            })
        first = segments[0]
        if first.name == "$metadata":
            _allow(request, "GET")
            xml = dv_csdl.render(self.environment.registry)
            return Response(xml, media_type="application/xml", headers={"OData-Version": "4.0"})
        if first.name == "$batch":
            _allow(request, "POST")
            return await self._batch(request, caller)
        if first.name in ("WhoAmI", "WhoAmI()"):
            _allow(request, "GET")
            return json_response({
                "@odata.context": f"{root}/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse",
                "BusinessUnitId": caller.business_unit_id, "UserId": caller.user_id, "OrganizationId": caller.organization_id,
            })
        if self.metadata.handles(first.name):
            return await self.metadata.handle(request, segments, params, root)
        if first.name == "audits":
            _allow(request, "GET")
            if first.key is not None:
                return json_response(dataverse_audit.get_audit(self.environment, caller, str(dict(first.key).get(None)), root))
            return json_response(dataverse_audit.list_audits(self.environment, caller, _options(params), root))
        table = self.records.table_for_set(first.name)
        if first.key is None:
            return await self._collection(request, caller, table, segments[1:], params, root)
        return await self._record(request, caller, table, first, segments[1:], params, root)

    # --- collections ----------------------------------------------------------------------------------------

    async def _collection(self, request: Request, caller: Caller, table: Table, rest: list[Segment],
                          params: list[tuple[str, str]], root: str) -> Response:
        if rest:
            name = rest[0].name
            if name == "$count" and len(rest) == 1:
                _allow(request, "GET")
                count = self.records.count(caller, table, _options(params))
                return Response(str(count), media_type="text/plain", headers={"OData-Version": "4.0"})
            action = name.removeprefix("Microsoft.Dynamics.CRM.")
            if action in BULK and len(rest) == 1:
                _allow(request, "POST")
                return await self._bulk(request, caller, table, action)
            raise NotFoundError(f"Resource not found for the segment '{name}'.", code="0x80060888")
        if request.method == "GET":
            return self._query(request, caller, table, params, root)
        if request.method == "POST":
            body = await read_json(request, self.settings.max_body_bytes)
            record_id = self.records.create(caller, table, body)
            return self._written(request, caller, table, record_id, root, created=True)
        raise MethodNotAllowedError(f"{request.method} is not allowed on the collection {table.entity_set_name}.")

    def _query(self, request: Request, caller: Caller, table: Table, params: list[tuple[str, str]], root: str) -> Response:
        preferences = prefer(request)
        annotations = Annotations.from_prefer(preferences.get("odata.include-annotations"))
        custom = dict(params)
        if "fetchXml" in custom:
            return self._fetch(request, caller, table, custom["fetchXml"], annotations, root)
        options = _options(params)
        if options.apply is not None:
            rows = run_apply(self.environment, caller, table, options, annotations)
            return json_response({"@odata.context": f"{root}/$metadata#{table.entity_set_name}", "value": rows})
        size = MAX_PAGE_SIZE
        headers: dict[str, str] = {}
        if preferences.get("odata.maxpagesize", "").isdigit():
            size = max(1, min(int(preferences["odata.maxpagesize"]), MAX_PAGE_SIZE))
            headers["Preference-Applied"] = f"odata.maxpagesize={size}"
        page = self.records.retrieve_multiple(caller, table, options, PageRequest(size, options.skiptoken), annotations)
        selection = f"({','.join('/'.join(p) for p in options.select)})" if options.select else ""
        payload: dict[str, Any] = {"@odata.context": f"{root}/$metadata#{table.entity_set_name}{selection}"}
        if page.count is not None:
            payload["@odata.count"] = page.count
        if annotations.wants("Microsoft.Dynamics.CRM.totalrecordcount"):
            total = page.count if page.count is not None else -1
            payload["@Microsoft.Dynamics.CRM.totalrecordcount"] = total
            payload["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"] = False
        if annotations.patterns:
            headers["Preference-Applied"] = ",".join(
                filter(None, [headers.get("Preference-Applied"), f'odata.include-annotations="{",".join(annotations.patterns)}"'])
            )
        payload["value"] = page.rows
        if page.next_skiptoken is not None:
            kept = [(k, v) for k, v in params if k != "$skiptoken"] + [("$skiptoken", page.next_skiptoken)]
            query = "&".join(f"{k}={quote(v, safe='$,()/:=*@-._~')}" for k, v in kept)
            payload["@odata.nextLink"] = f"{root}/{table.entity_set_name}?{query}"
        return json_response(payload, headers=headers)

    def _fetch(self, request: Request, caller: Caller, table: Table, xml: str, annotations: Annotations, root: str) -> Response:
        payload = fetch_payload(self.environment, caller, table, xml, annotations, root)
        return json_response(payload)

    async def _bulk(self, request: Request, caller: Caller, table: Table, action: str) -> Response:
        body = await read_json(request, self.settings.max_body_bytes)
        targets = body.get("Targets") if isinstance(body, dict) else None
        if not isinstance(targets, list) or not targets or not all(isinstance(t, dict) for t in targets):
            raise ValidationError(f"{action} needs a non-empty \"Targets\" array of records.", target="Targets")
        ids: list[str] = []
        database = self.environment.database
        with database.unit_of_work(caller.context):
            for target in targets:
                record = {k: v for k, v in target.items() if k != "@odata.type"}
                if action == "CreateMultiple":
                    ids.append(self.records.create(caller, table, record))
                    continue
                key = _target_key(table, record)
                if action == "UpdateMultiple":
                    ids.append(self.records.update(caller, table, key, _without_key(table, record), if_match="*"))
                else:
                    ids.append(self.records.upsert(caller, table, key, _without_key(table, record))[1])
        return json_response({"@odata.context": f"{self.service_root(request)}/$metadata#Microsoft.Dynamics.CRM.{action}Response", "Ids": ids})

    # --- records --------------------------------------------------------------------------------------------

    async def _record(self, request: Request, caller: Caller, table: Table, first: Segment, rest: list[Segment],
                      params: list[tuple[str, str]], root: str) -> Response:
        method = request.method
        preferences = prefer(request)
        annotations = Annotations.from_prefer(preferences.get("odata.include-annotations"))
        if not rest:
            if method == "GET":
                row = self.records.retrieve(caller, table, first.key, _options(params), annotations)
                return json_response({"@odata.context": f"{root}/$metadata#{table.entity_set_name}/$entity", **row})
            if method == "PATCH":
                body = await read_json(request, self.settings.max_body_bytes)
                created, record_id = self.records.upsert(
                    caller, table, first.key, body,
                    if_match=request.headers.get("if-match"), if_none_match=request.headers.get("if-none-match"),
                )
                return self._written(request, caller, table, record_id, root, created=created)
            if method == "DELETE":
                self.records.delete(caller, table, first.key, if_match=request.headers.get("if-match"))
                return empty_response(204)
            raise MethodNotAllowedError(f"{method} is not allowed on a record; use GET, PATCH or DELETE.")
        name = rest[0].name
        if len(rest) == 2 and rest[1].name == "$ref":
            return await self._reference(request, caller, table, first, rest[0], params)
        nav = self.environment.registry.navigation(table.logical_name, name)
        if nav is not None and len(rest) == 1:
            _allow(request, "GET")
            return self._navigate(request, caller, table, first, nav, params, root, annotations)
        if len(rest) in (1, 2) and (table.column(name) is not None):
            return await self._property(request, caller, table, first, name, rest, root)
        raise NotFoundError(f"Resource not found for the segment '{name}'.", code="0x80060888")

    async def _reference(self, request: Request, caller: Caller, table: Table, first: Segment, nav: Segment,
                         params: list[tuple[str, str]]) -> Response:
        """Associate (POST, or PUT for a single-valued navigation) and disassociate (DELETE) through ``$ref``."""
        if request.method in ("POST", "PUT"):
            body = await read_json(request, self.settings.max_body_bytes)
            target = body.get("@odata.id") if isinstance(body, dict) else None
            if not isinstance(target, str):
                raise InvalidRequestError('An association needs a body like {"@odata.id": "<url of the record>"}.')
            self.records.associate(caller, table, first.key, nav.name, _reference_key(target))
            return empty_response(204)
        if request.method == "DELETE":
            target_key = nav.key
            given = dict(params).get("$id")
            if target_key is None and given:
                target_key = _reference_key(given)
            self.records.disassociate(caller, table, first.key, nav.name, target_key)
            return empty_response(204)
        raise MethodNotAllowedError(f"{request.method} is not allowed on $ref; use POST, PUT or DELETE.")

    def _navigate(self, request, caller, table, first, nav, params, root, annotations):  # type: ignore[no-untyped-def]
        registry = self.environment.registry
        parent = self.records.retrieve(caller, table, first.key, QueryOptions(), Annotations())
        target = registry.tables[nav.target]
        sql = registry.sql[nav.target]
        options = _options(params)
        if nav.kind == "single":
            value = parent.get(f"_{nav.local_column}_value")
            if value is None:
                return empty_response(204)
            row = self.records.retrieve(caller, target, ((None, value),), options, annotations)
            return json_response({"@odata.context": f"{root}/$metadata#{target.entity_set_name}/$entity", **row})
        if nav.kind != "collection":
            raise NotSupportedError("Reading a many-to-many navigation property directly is not supported; use $expand.")
        parent_id = parent[table.primary_id]
        page = self.records.retrieve_multiple(
            caller, target, options, PageRequest(MAX_PAGE_SIZE, options.skiptoken), annotations,
            extra_where=[sql.c[nav.remote_column] == parent_id],
        )
        return json_response({"@odata.context": f"{root}/$metadata#{target.entity_set_name}", "value": page.rows})

    async def _property(self, request, caller, table, first, name, rest, root):  # type: ignore[no-untyped-def]
        column = table.column(name)
        if request.method == "GET":
            row = self.records.retrieve(caller, table, first.key, QueryOptions(), Annotations())
            value = row.get(column.value_property)
            if len(rest) == 2:
                if rest[1].name != "$value":
                    raise NotFoundError(f"Resource not found for the segment '{rest[1].name}'.")
                return Response("" if value is None else str(value), media_type="text/plain")
            if value is None:
                return empty_response(204)
            return json_response({"@odata.context": f"{root}/$metadata#{table.entity_set_name}({row[table.primary_id]})/{name}", "value": value})
        if request.method == "PUT":
            body = await read_json(request, self.settings.max_body_bytes)
            if not isinstance(body, dict) or "value" not in body:
                raise InvalidRequestError('A property PUT needs a body like {"value": ...}.')
            self.records.update(caller, table, first.key, {name: body["value"]}, if_match=request.headers.get("if-match"))
            return empty_response(204)
        if request.method == "DELETE":
            self.records.update(caller, table, first.key, {name: None})
            return empty_response(204)
        raise MethodNotAllowedError(f"{request.method} is not allowed on a property.")

    def _written(self, request: Request, caller: Caller, table: Table, record_id: str, root: str, *, created: bool) -> Response:
        entity_id = f"{root}/{table.entity_set_name}({record_id})"
        if prefer(request).get("return") == "representation":
            params = parse_qsl(request.url.query, keep_blank_values=True)
            annotations = Annotations.from_prefer(prefer(request).get("odata.include-annotations"))
            row = self.records.retrieve(caller, table, ((None, record_id),), _options(params), annotations)
            return json_response({"@odata.context": f"{root}/$metadata#{table.entity_set_name}/$entity", **row},
                                 201 if created else 200, {"OData-EntityId": entity_id} if created else None)
        return empty_response(204, {"OData-EntityId": entity_id, "Location": entity_id} if created else {"OData-EntityId": entity_id})

    async def _batch(self, request: Request, caller: Caller) -> Response:
        body = await read_body(request, self.settings.max_body_bytes)
        items = parse_batch(body, request.headers.get("content-type", ""), max_operations=1000)
        database = self.environment.database
        result = await execute_batch(
            request.scope["app"], request.scope, items,
            service_root_path=request.scope.get("root_path", "") + ROOT,
            changeset_scope=lambda: database.unit_of_work(caller.context),
            error_response=batch_error_response,
        )
        return Response(result.body, status_code=200, headers=result.headers)


def _allow(request: Request, *methods: str) -> None:
    if request.method not in methods:
        raise MethodNotAllowedError(f"{request.method} is not allowed here; use {' or '.join(methods)}.")


def _options(params: list[tuple[str, str]]) -> QueryOptions:
    if any(k == "$skip" for k, _ in params):
        raise NotSupportedError("The query parameter $skip is not supported; follow @odata.nextLink to page.", target="$skip")
    return parse_query_options([(k, v) for k, v in params if k not in ("fetchXml",)], supported=SUPPORTED_OPTIONS)


def _reference_key(url: str) -> tuple[tuple[str | None, object], ...]:
    """The key of the record an ``@odata.id`` / ``$id`` URL addresses (absolute, rooted or relative)."""
    segment = split_path("/" + url.rsplit("/", 1)[-1])[0]
    if segment.key is None:
        raise InvalidRequestError(f"{url!r} does not address a record; use <entityset>(<id>).")
    return segment.key


def _target_key(table: Table, record: dict[str, Any]) -> tuple[tuple[str | None, object], ...]:
    """The record a bulk target addresses: its ``@odata.id`` (``accounts(accountnumber='A')``) or primary id."""
    odata_id = record.get("@odata.id")
    if isinstance(odata_id, str):
        segment = split_path("/" + odata_id.rsplit("/", 1)[-1])[0]
        if segment.key is None:
            raise ValidationError(f"@odata.id {odata_id!r} does not address a record.")
        return segment.key
    if record.get(table.primary_id):
        return ((None, record[table.primary_id]),)
    raise ValidationError(f"Each target needs @odata.id or {table.primary_id}.", target="Targets")


def _without_key(table: Table, record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in ("@odata.id", table.primary_id)}
