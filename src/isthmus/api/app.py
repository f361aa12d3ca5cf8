"""The ASGI application: one Starlette app serving every API of one Isthmus system.

* ``/data/`` and ``/api/data/v9.2/`` — the default finance and operations and Power Platform environments;
* ``/environments/<name>/data/`` and ``/environments/<name>/api/data/v9.2/`` — any environment by name;
* ``/admin/`` — the admin API (FastAPI; OpenAPI at ``/admin/openapi.json``);
* ``/oauth2/token`` — the token endpoint.

Middleware order is fixed: server errors outermost (anything unhandled becomes a 500), then authentication (every API
path needs a valid token for its audience, except in development mode), then the routes, each of which turns handled
errors into OData errors itself (``isthmus.api.http.guarded``).
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.middleware import Middleware
from starlette.routing import Mount, Route

from isthmus import __version__
from isthmus.api.admin import create_admin_app
from isthmus.api.dataverse_webapi import DataverseWebApi
from isthmus.api.erp_odata import ErpODataService
from isthmus.api.http import guarded
from isthmus.identity import PROTECTED_PATHS, Authentication, token_route
from isthmus.system import DEFAULT, DEVELOPMENT_PRINCIPAL, System

ODATA_METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE"]


class EnvironmentApis:
    """The OData services of every environment, built on first request and kept."""

    def __init__(self, system: System) -> None:
        self.system = system
        self._erp: dict[str, ErpODataService] = {}
        self._dataverse: dict[str, DataverseWebApi] = {}

    def erp(self, name: str) -> ErpODataService:
        service = self.system.erp(name)  # raises NotFound for an environment deleted meanwhile
        api = self._erp.get(name)
        if api is None or api.service is not service:
            api = self._erp[name] = ErpODataService(service, self.system.settings)
        return api

    def dataverse(self, name: str) -> DataverseWebApi:
        environment = self.system.dataverse_for(name)
        api = self._dataverse.get(name)
        if api is None or api.environment is not environment:
            api = self._dataverse[name] = DataverseWebApi(environment, self.system.settings)
        return api


def create_app(system: System) -> Starlette:
    apis = EnvironmentApis(system)

    @guarded
    async def default_erp(request: Request) -> Response:
        return await apis.erp(DEFAULT).handle(request)

    @guarded
    async def default_dataverse(request: Request) -> Response:
        return await apis.dataverse(DEFAULT).handle(request)

    @guarded
    async def named_erp(request: Request) -> Response:
        return await apis.erp(request.path_params["environment"]).handle(request)

    @guarded
    async def named_dataverse(request: Request) -> Response:
        return await apis.dataverse(request.path_params["environment"]).handle(request)

    async def index(request: Request) -> Response:
        base = str(request.base_url).rstrip("/")
        return JSONResponse(
            {
                "name": "Isthmus",
                "version": __version__,
                "apis": {
                    "erp": f"{base}/data/",
                    "erp_metadata": f"{base}/data/$metadata",
                    "dataverse": f"{base}/api/data/v9.2/",
                    "dataverse_metadata": f"{base}/api/data/v9.2/$metadata",
                    "admin": f"{base}/admin/docs",
                    "environment": f"{base}/environments/{{name}}/data/ and /environments/{{name}}/api/data/v9.2/",
                },
            }
        )

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    app = Starlette(
        middleware=[
            Middleware(
                Authentication,
                tokens=system.tokens,
                protected=PROTECTED_PATHS,
                development_mode=system.settings.development_mode,
                development_principal=lambda: DEVELOPMENT_PRINCIPAL,
            )
        ],
        routes=[
            Route("/", index),
            Route("/health", health),
            token_route(system.tokens),
            Route("/data", default_erp, methods=ODATA_METHODS),
            Route("/data/{rest:path}", default_erp, methods=ODATA_METHODS),
            Route("/api/data/v9.2", default_dataverse, methods=ODATA_METHODS),
            Route("/api/data/v9.2/{rest:path}", default_dataverse, methods=ODATA_METHODS),
            Mount("/environments/{environment}", routes=[
                Route("/data", named_erp, methods=ODATA_METHODS),
                Route("/data/{rest:path}", named_erp, methods=ODATA_METHODS),
                Route("/api/data/v9.2", named_dataverse, methods=ODATA_METHODS),
                Route("/api/data/v9.2/{rest:path}", named_dataverse, methods=ODATA_METHODS),
            ]),
            Mount("/admin", app=create_admin_app(system)),
        ],
    )
    app.state.system = system
    return app
