"""Company striping on the Dataverse side: each ``cdm_company`` row gets a business unit and an owner team of the
same name (Microsoft's dual-write plug-in does the same), and rows dual-written for that company are owned by the
team — so Dataverse's business-unit security separates companies the way ``dataAreaId`` does in the ERP."""

from __future__ import annotations

from sqlalchemy import select

from isthmus.dataverse.environment import DataverseEnvironment
from isthmus.dataverse.pipeline import PluginContext

PLUGIN_NAME = "Isthmus.DualWrite.CompanyOwnership"


def register_company_plugin(environment: DataverseEnvironment) -> None:
    """Register the plug-in on ``cdm_company`` create (idempotent)."""
    if any(r.name == PLUGIN_NAME for r in environment.pipeline.handlers("cdm_company", "Create", "PostOperation",
                                                                        asynchronous=False)):
        return
    environment.pipeline.register("cdm_company", "Create", "PostOperation",
                                  lambda context: _give_business_unit(environment, context), name=PLUGIN_NAME)


def ensure_company_owner(environment: DataverseEnvironment, company_id: str, code: str) -> tuple[str, str]:
    """The business unit and owner team of a company, created if missing; the company row points to the unit."""
    unit = environment.ensure_business_unit(code)
    team = environment.ensure_team(code, business_unit_id=unit)
    sql = environment.registry.sql["cdm_company"]
    uow = environment.database.current_unit_of_work()
    if uow is not None:
        current = uow.connection.execute(select(sql.c.msdyn_owningbusinessunit).where(sql.c.cdm_companyid == company_id)).scalar()
        if current != unit:
            uow.update(sql, company_id, {"msdyn_owningbusinessunit": unit})
    return unit, team


def _give_business_unit(environment: DataverseEnvironment, context: PluginContext) -> None:
    code = (context.post_image or context.target).get("cdm_companycode")
    if code and context.record_id:
        ensure_company_owner(environment, context.record_id, str(code))
