"""The finance and operations-style OData API at ``/data``: the service document, ``$metadata``,
``/Metadata/PublicEntities``, entity collections and records, navigation, properties, bound actions, ``$count`` and
``$batch``.

URL shapes served (``{S}`` is an entity set, ``{K}`` a key predicate)::

    GET    /data/                         GET /data/$metadata          POST /data/$batch
    GET    /data/Metadata/PublicEntities[(Name='X')]
    GET    /data/{S}   /data/{S}/$count   POST /data/{S}
    GET    /data/{S}{K}   PATCH|PUT|DELETE /data/{S}{K}
    GET    /data/{S}{K}/{Navigation}      GET /data/{S}{K}/{Property}[/$value]
    POST   /data/{S}{K}/Microsoft.Dynamics.DataEntities.{Action}
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import Response

from isthmus.api.http import service_base, batch_error_response, empty_response, json_response, prefer, read_body, read_json
from isthmus.api import callers
from isthmus.config import Settings
from isthmus.erp.security import ErpSecurity
from isthmus.errors import InvalidRequestError, MethodNotAllowedError, NotFoundError
from isthmus.erp.entities.model import NAMESPACE, DataEntity
from isthmus.erp.entities.service import EntityService, key_predicate
from isthmus.odata import csdl
from isthmus.odata.batch import execute_batch, parse_batch
from isthmus.odata.query import QueryOptions, parse_query_options
from isthmus.odata.resource import Segment, split_path
from isthmus.storage import CallContext

SUPPORTED_OPTIONS = frozenset({"$filter", "$select", "$orderby", "$top", "$skip", "$count", "$expand", "$format"})
ROOT = "/data"


class ErpODataService:
    def __init__(self, service: EntityService, settings: Settings) -> None:
        self.service = service
        self.settings = settings
        self.security = ErpSecurity(service.database, default_company=settings.default_company)
        self._metadata_xml = csdl.render(service.catalog.schema).encode()

    # --- entry ---------------------------------------------------------------------------------------------

    def context(self, request: Request) -> CallContext:
        return callers.erp_context(request, self.security, self.settings.default_company)

    def service_root(self, request: Request) -> str:
        return service_base(request) + ROOT

    async def handle(self, request: Request) -> Response:
        raw_path: bytes = request.scope.get("raw_path") or request.scope["path"].encode()
        path = raw_path.decode("latin-1").split("?", 1)[0]
        root_path = request.scope.get("root_path", "")
        if root_path and path.startswith(root_path):
            path = path[len(root_path) :]
        if not path.startswith(ROOT):
            raise NotFoundError(f"{path} is not under {ROOT}.")
        segments = split_path(path[len(ROOT) :])
        params = parse_qsl(request.url.query, keep_blank_values=True)
        method = request.method
        if not segments:
            self._allow(method, "GET")
            return self._service_document(request)
        first = segments[0]
        if first.name == "$metadata":
            self._allow(method, "GET")
            return Response(self._metadata_xml, media_type="application/xml", headers={"OData-Version": "4.0"})
        if first.name == "$batch":
            self._allow(method, "POST")
            return await self._batch(request)
        if first.name == "Metadata":
            self._allow(method, "GET")
            return self._public_entities(request, segments)
        entity = self.service.entity(first.name)
        if first.key is None:
            return await self._collection(request, entity, segments[1:], params)
        return await self._record(request, entity, first, segments[1:], params)

    @staticmethod
    def _allow(method: str, *allowed: str) -> None:
        if method not in allowed:
            raise MethodNotAllowedError(f"{method} is not allowed here; use {' or '.join(allowed)}.")

    # --- documents -----------------------------------------------------------------------------------------

    def _service_document(self, request: Request) -> Response:
        root = self.service_root(request)
        return json_response(
            {
                "@odata.context": f"{root}/$metadata",
                "value": [
                    {"name": e.set_name, "kind": "EntitySet", "url": e.set_name} for e in self.service.catalog.entities
                ],
            }
        )

    def _public_entities(self, request: Request, segments: list[Segment]) -> Response:
        if len(segments) != 2 or segments[1].name != "PublicEntities":
            raise NotFoundError("Only /Metadata/PublicEntities is served under /Metadata.")
        catalog = self.service.catalog
        root = self.service_root(request)
        if segments[1].key is None:
            return json_response(
                {
                    "@odata.context": f"{root}/Metadata/$metadata#PublicEntities",
                    "value": [catalog.public_entity(e) for e in catalog.entities],
                }
            )
        key = dict(segments[1].key)
        name = key.get("Name", key.get(None))
        entity = catalog.by_name.get(str(name))
        if entity is None:
            raise NotFoundError(f"No public entity named {name!r}.")
        return json_response({"@odata.context": f"{root}/Metadata/$metadata#PublicEntities/$entity", **catalog.public_entity(entity)})

    # --- collections ----------------------------------------------------------------------------------------

    async def _collection(
        self, request: Request, entity: DataEntity, rest: list[Segment], params: list[tuple[str, str]]
    ) -> Response:
        ctx = self.context(request)
        if rest:
            if len(rest) == 1 and rest[0].name == "$count":
                self._allow(request.method, "GET")
                options = self._options(params)
                count = self.service.count(ctx, entity, options, cross_company=_cross_company(options))
                return Response(str(count), media_type="text/plain", headers={"OData-Version": "4.0"})
            raise NotFoundError(f"{entity.set_name}/{rest[0].name} is not a resource; address a record by its key first.")
        if request.method == "GET":
            return self._page(request, ctx, entity, self._options(params), params)
        if request.method == "POST":
            body = await read_json(request, self.settings.max_body_bytes)
            row = self.service.create(ctx, entity, body)
            location = f"{self.service_root(request)}/{entity.set_name}{key_predicate(entity, row)}"
            if prefer(request).get("return") == "minimal":
                return empty_response(204, {"Location": location, "OData-EntityId": location})
            payload = {"@odata.context": f"{self.service_root(request)}/$metadata#{entity.set_name}/$entity", **row}
            return json_response(payload, 201, {"Location": location})
        raise MethodNotAllowedError(f"{request.method} is not allowed on the collection {entity.set_name}; use GET or POST.")

    def _options(self, params: list[tuple[str, str]]) -> QueryOptions:
        return parse_query_options(params, supported=SUPPORTED_OPTIONS)

    def _page(
        self,
        request: Request,
        ctx: CallContext,
        entity: DataEntity,
        options: QueryOptions,
        params: list[tuple[str, str]],
        *,
        extra_where: tuple[Any, ...] = (),
        context_path: str | None = None,
        cross_company: bool | None = None,
    ) -> Response:
        preferences = prefer(request)
        page_size = None
        headers: dict[str, str] = {}
        if "odata.maxpagesize" in preferences and preferences["odata.maxpagesize"].isdigit():
            page_size = max(1, int(preferences["odata.maxpagesize"]))
            headers["Preference-Applied"] = f"odata.maxpagesize={min(page_size, self.service.max_page_size)}"
        if cross_company is None:
            cross_company = _cross_company(options)
        page = self.service.query(
            ctx, entity, options, cross_company=cross_company, page_size=page_size, extra_where=extra_where
        )
        root = self.service_root(request)
        selection = f"({','.join('/'.join(p) for p in options.select)})" if options.select else ""
        payload: dict[str, Any] = {"@odata.context": f"{root}/$metadata#{context_path or entity.set_name}{selection}"}
        if page.count is not None:
            payload["@odata.count"] = page.count
        payload["value"] = page.rows
        if page.next_skip is not None:
            payload["@odata.nextLink"] = _next_link(request, params, page.next_skip, options)
        return json_response(payload, headers=headers)

    # --- records --------------------------------------------------------------------------------------------

    async def _record(
        self, request: Request, entity: DataEntity, first: Segment, rest: list[Segment], params: list[tuple[str, str]]
    ) -> Response:
        ctx = self.context(request)
        root = self.service_root(request)
        method = request.method
        if not rest:
            if method == "GET":
                options = self._options(params)
                row = self.service.get(ctx, entity, first.key, options)
                return json_response({"@odata.context": f"{root}/$metadata#{entity.set_name}/$entity", **row}, headers={"ETag": row["@odata.etag"]})
            if method in ("PATCH", "PUT"):
                body = await read_json(request, self.settings.max_body_bytes)
                row = self.service.update(ctx, entity, first.key, body, if_match=request.headers.get("if-match"))
                if prefer(request).get("return") == "representation":
                    return json_response({"@odata.context": f"{root}/$metadata#{entity.set_name}/$entity", **row}, headers={"ETag": row["@odata.etag"]})
                return empty_response(204, {"ETag": row["@odata.etag"]})
            if method == "DELETE":
                self.service.delete(ctx, entity, first.key, if_match=request.headers.get("if-match"))
                return empty_response(204)
            raise MethodNotAllowedError(f"{method} is not allowed on a record; use GET, PATCH, PUT or DELETE.")
        segment = rest[0]
        if segment.key is not None or len(rest) > 2:
            raise NotFoundError(f"{segment.name}{'(...)' if segment.key else ''}: deeper paths are not served.")
        name = segment.name
        if name.startswith(NAMESPACE + ".") or (entity.action(name) is not None):
            self._allow(method, "POST")
            body = await read_json(request, self.settings.max_body_bytes, required=False)
            kind, value = self.service.invoke(ctx, entity, first.key, name.removeprefix(NAMESPACE + "."), body)
            if kind == "entity":
                return json_response({"@odata.context": f"{root}/$metadata#{entity.set_name}/$entity", **value})
            return json_response({"@odata.context": f"{root}/$metadata#{kind}", "value": value})
        nav = entity.navigation_property(name)
        if nav is not None:
            self._allow(method, "GET")
            return self._navigate(request, ctx, entity, first, nav, params)
        field = entity.field(name)
        if field is not None:
            self._allow(method, "GET")
            row = self.service.get(ctx, entity, first.key)
            value = row[field.name]
            if len(rest) == 2:
                if rest[1].name != "$value":
                    raise NotFoundError(f"{name}/{rest[1].name} is not a resource.")
                return Response("" if value is None else str(value), media_type="text/plain", headers={"OData-Version": "4.0"})
            if value is None:
                return empty_response(204)
            context = f"{root}/$metadata#{entity.set_name}{key_predicate(entity, row)}/{name}"
            return json_response({"@odata.context": context, "value": value})
        raise NotFoundError(f"{entity.set_name} has no property, navigation property or action named {name!r}.")

    def _navigate(self, request: Request, ctx: CallContext, entity: DataEntity, first: Segment, nav: Any, params: list) -> Response:
        parent = self.service.get(ctx, entity, first.key)
        target = self.service.entity(nav.target)
        conditions = tuple(
            target.field(b).column == (target.field(b).codec.to_storage(parent[a]) if target.field(b).codec else parent[a])  # type: ignore[union-attr]
            for a, b in nav.pairs
        )
        options = self._options(params)
        if nav.collection:
            # The parent decides the company, so the children are read across companies within that condition.
            return self._page(
                request, ctx, target, options, params, extra_where=conditions, context_path=target.set_name, cross_company=True
            )
        page = self.service.query(ctx, target, options, cross_company=True, page_size=1, extra_where=conditions)
        if not page.rows:
            return empty_response(204)
        root = self.service_root(request)
        return json_response({"@odata.context": f"{root}/$metadata#{target.set_name}/$entity", **page.rows[0]})

    # --- $batch ---------------------------------------------------------------------------------------------

    async def _batch(self, request: Request) -> Response:
        body = await read_body(request, self.settings.max_body_bytes)
        items = parse_batch(
            body, request.headers.get("content-type", ""), max_operations=self.settings.max_batch_operations
        )
        ctx = self.context(request)
        database = self.service.database
        result = await execute_batch(
            request.scope["app"],
            request.scope,
            items,
            service_root_path=request.scope.get("root_path", "") + ROOT,
            changeset_scope=lambda: database.unit_of_work(ctx),
            error_response=batch_error_response,
        )
        return Response(result.body, status_code=200, headers=result.headers)


def _cross_company(options: QueryOptions) -> bool:
    value = options.custom.get("cross-company")
    if value is None:
        return False
    if value.lower() not in ("true", "false"):
        raise InvalidRequestError(f"cross-company must be true or false; got {value!r}.", target="cross-company")
    return value.lower() == "true"


def _next_link(request: Request, params: list[tuple[str, str]], next_skip: int, options: QueryOptions) -> str:
    kept = [(k, v) for k, v in params if k not in ("$skip", "$top")]
    kept.append(("$skip", str(next_skip)))
    if options.top is not None:
        kept.append(("$top", str(options.top - (next_skip - (options.skip or 0)))))
    return str(request.url.replace(query=urlencode(kept, safe="$,'()/:=*@")))
