"""The admin REST API at ``/admin`` (OpenAPI at ``/admin/openapi.json``, interactive docs at ``/admin/docs``):
environments, the Power Platform integration link, features and automatic enablement.

Errors come back in the same JSON shape as the OData APIs (``{"error": {"code", "message", …}}``).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from isthmus import __version__
from isthmus.api.errors import error_payload
from isthmus.environments.model import FEATURES, EnablementAction, Environment, FeatureUsage, Link
from isthmus.errors import AuthenticationError, ForbiddenError, IsthmusError
from isthmus.identity import principal_of
from isthmus.system import System

KindPath = Literal["finance-operations", "power-platform"]
KIND = {"finance-operations": "finance_operations", "power-platform": "power_platform"}


class EnvironmentIn(BaseModel):
    name: str = Field(description="Lower-case letters, digits and hyphens; unique per kind.", examples=["contoso-test"])
    kind: Literal["finance_operations", "power_platform"]
    type: Literal["sandbox", "production", "developer"] = "sandbox"
    database_url: str | None = Field(None, description="SQLAlchemy URL; default a SQLite file under the data directory.")
    geography: str = "unitedstates"
    tenant_id: str | None = None
    with_dataverse: bool = Field(True, description="Power Platform only: provision a Dataverse database now.")
    capacity_gb: float = Field(10.0, ge=0)


class EnvironmentOut(BaseModel):
    id: str
    name: str
    kind: str
    type: str
    geography: str
    tenant_id: str
    has_dataverse: bool
    capacity_gb: float
    free_capacity_gb: float
    managed_database: bool
    created: dt.datetime
    erp_url: str | None = Field(None, description="Where its /data API answers (finance and operations).")
    dataverse_url: str | None = Field(None, description="Where its Web API answers (Power Platform with Dataverse).")


class LinkIn(BaseModel):
    power_platform: str | None = Field(None, description="An existing Power Platform environment; omit for a new one.")


class LinkOut(BaseModel):
    finance_operations: str
    power_platform: str
    mode: str
    state: Literal["setting_up", "linked", "failed"]
    reason: str | None
    resume_action: str | None
    unlocked: list[str]
    created: dt.datetime
    modified: dt.datetime


class LinkStatus(BaseModel):
    finance_operations: str
    state: Literal["not_linked", "setting_up", "linked", "failed"]
    link: LinkOut | None


class FeatureOut(BaseModel):
    environment: str
    feature: str
    power_platform: str | None
    active: bool
    legacy: bool
    modified: dt.datetime


class LegacyConnectionIn(BaseModel):
    feature: Literal["dual_write", "virtual_entities"]
    power_platform: str


class EnablementActionOut(BaseModel):
    run_id: str
    environment: str
    action: str
    power_platform: str | None
    reason: str
    at: dt.datetime


def require_administrator(request: Request) -> None:
    """Every admin operation needs the directory's Administrator role (the token's principal)."""
    principal = principal_of(request)
    if principal is None:
        raise AuthenticationError("No token: send Authorization: Bearer <token> for api://isthmus/admin.")
    if not principal.is_administrator:
        raise ForbiddenError(
            f"The admin API needs the Administrator role; {principal.name} does not have it.",
            next_step="Ask an administrator to grant the role, or sign in as one.",
        )


def create_admin_app(system: System) -> FastAPI:
    service = system.environments
    app = FastAPI(
        title="Isthmus admin API",
        version=__version__,
        description="Environments, the Power Platform integration link, features and automatic enablement. "
                    "Needs a token for api://isthmus/admin of a principal with the Administrator role.",
        dependencies=[Depends(require_administrator)],
    )

    @app.exception_handler(IsthmusError)
    async def isthmus_error(request: Request, exc: IsthmusError) -> Response:
        status, body, headers = error_payload(exc)
        return Response(body, status_code=status, media_type="application/json", headers=headers)

    def environment_out(request: Request, env: Environment) -> EnvironmentOut:
        base = str(request.base_url).rstrip("/").removesuffix("/admin")
        return EnvironmentOut(
            **{k: getattr(env, k) for k in ("id", "name", "kind", "type", "geography", "tenant_id", "has_dataverse",
                                             "capacity_gb", "managed_database", "created")},
            free_capacity_gb=env.free_capacity_gb,
            erp_url=f"{base}/environments/{env.name}/data/" if env.kind == "finance_operations" else None,
            dataverse_url=f"{base}/environments/{env.name}/api/data/v9.2/" if env.has_dataverse else None,
        )

    def link_out(link: Link) -> LinkOut:
        return LinkOut(**{k: getattr(link, k) for k in ("finance_operations", "power_platform", "mode", "state", "reason",
                                                        "resume_action", "created", "modified")}, unlocked=list(link.unlocked))

    def feature_out(usage: FeatureUsage) -> FeatureOut:
        return FeatureOut(**usage.__dict__)

    def action_out(action: EnablementAction) -> EnablementActionOut:
        return EnablementActionOut(**action.__dict__)

    @app.get("/environments", response_model=list[EnvironmentOut], summary="List environments")
    def list_environments(request: Request, kind: Literal["finance_operations", "power_platform"] | None = None) -> list[EnvironmentOut]:
        return [environment_out(request, e) for e in service.list(kind)]

    @app.post("/environments", response_model=EnvironmentOut, status_code=201, summary="Create an environment and its database")
    def create_environment(request: Request, body: EnvironmentIn) -> EnvironmentOut:
        extra = {"tenant_id": body.tenant_id} if body.tenant_id else {}
        env = service.create(body.name, body.kind, type=body.type, database_url=body.database_url, geography=body.geography,
                             with_dataverse=body.with_dataverse, capacity_gb=body.capacity_gb, **extra)
        return environment_out(request, env)

    @app.get("/environments/{kind}/{name}", response_model=EnvironmentOut, summary="Show an environment")
    def show_environment(request: Request, kind: KindPath, name: str) -> EnvironmentOut:
        return environment_out(request, service.get(name, KIND[kind]))

    @app.delete("/environments/{kind}/{name}", status_code=204, summary="Delete an environment (not while linked)")
    def delete_environment(kind: KindPath, name: str) -> Response:
        service.delete(name, KIND[kind])
        system.forget(name, KIND[kind])
        return Response(status_code=204)

    @app.get("/fo-environments/{name}/link", response_model=LinkStatus, summary="The Power Platform integration link")
    def show_link(name: str) -> LinkStatus:
        service.get(name, "finance_operations")
        link = service.link_of(name)
        return LinkStatus(finance_operations=name, state=link.state if link else "not_linked", link=link_out(link) if link else None)

    @app.post("/fo-environments/{name}/link", response_model=LinkOut, status_code=201,
              summary="Link to a new or an existing Power Platform environment")
    def create_link(name: str, body: LinkIn | None = None) -> LinkOut:
        return link_out(service.link(name, body.power_platform if body else None))

    @app.post("/fo-environments/{name}/link/resume", response_model=LinkOut, summary="Resume a failed link")
    def resume_link(name: str) -> LinkOut:
        return link_out(service.resume(name))

    @app.delete("/fo-environments/{name}/link", status_code=204,
                summary="Unlink (explicit; refused while a feature that needs the link is active)")
    def delete_link(name: str) -> Response:
        service.unlink(name)
        return Response(status_code=204)

    @app.get("/fo-environments/{name}/features", response_model=list[FeatureOut], summary="Features and their state")
    def list_features(name: str) -> list[FeatureOut]:
        service.get(name, "finance_operations")
        return [feature_out(u) for u in service.features(name)]

    @app.post("/fo-environments/{name}/features/{feature}", response_model=FeatureOut,
              summary=f"Activate a feature ({', '.join(FEATURES)}); those that need the link refuse without it")
    def activate_feature(name: str, feature: str) -> FeatureOut:
        return feature_out(service.activate(name, feature))

    @app.delete("/fo-environments/{name}/features/{feature}", status_code=204, summary="Deactivate a feature")
    def deactivate_feature(name: str, feature: str) -> Response:
        service.deactivate(name, feature)
        return Response(status_code=204)

    @app.post("/fo-environments/{name}/legacy-connections", response_model=FeatureOut, status_code=201,
              summary="Record a dual-write or virtual-entity connection made before linking was mandatory")
    def legacy_connection(name: str, body: LegacyConnectionIn) -> FeatureOut:
        return feature_out(service.record_legacy_connection(name, body.feature, body.power_platform))

    @app.post("/auto-enablement", response_model=list[EnablementActionOut],
              summary="Run automatic enablement now: link every unlinked finance and operations environment")
    def run_auto_enablement() -> list[EnablementActionOut]:
        return [action_out(a) for a in service.auto_enable()]

    @app.get("/auto-enablement", response_model=list[EnablementActionOut], summary="What automatic enablement did and why")
    def enablement_history(limit: int = 200) -> list[EnablementActionOut]:
        return [action_out(a) for a in service.enablement_history(limit)]

    @app.get("/", include_in_schema=False)
    def index() -> JSONResponse:
        return JSONResponse({"openapi": "openapi.json", "docs": "docs"})

    return app
