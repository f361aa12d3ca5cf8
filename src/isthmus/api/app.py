"""The ASGI application: one Starlette app serving every API of one Isthmus system.

Middleware order is fixed: server errors outermost (anything unhandled becomes a 500 with an OData error body), then
the routes, each of which turns handled errors into OData errors itself (``isthmus.api.http.guarded``).
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from isthmus import __version__
from isthmus.api.dataverse_webapi import DataverseWebApi
from isthmus.api.erp_odata import ErpODataService
from isthmus.api.http import guarded
from isthmus.system import System

ODATA_METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE"]


def create_app(system: System) -> Starlette:
    erp = ErpODataService(system.entities, system.settings)
    erp_endpoint = guarded(erp.handle)
    dataverse = DataverseWebApi(system.dataverse, system.settings)
    dataverse_endpoint = guarded(dataverse.handle)

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
                },
            }
        )

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    app = Starlette(
        routes=[
            Route("/", index),
            Route("/health", health),
            Route("/data", erp_endpoint, methods=ODATA_METHODS),
            Route("/data/{rest:path}", erp_endpoint, methods=ODATA_METHODS),
            Route("/api/data/v9.2", dataverse_endpoint, methods=ODATA_METHODS),
            Route("/api/data/v9.2/{rest:path}", dataverse_endpoint, methods=ODATA_METHODS),
        ],
    )
    app.state.system = system
    return app
