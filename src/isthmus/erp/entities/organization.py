"""Organisation data entities: LegalEntities (creating one sets up a whole company), Currencies and MainAccounts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from isthmus.errors import ValidationError
from isthmus.erp import setup
from isthmus.erp.entities.fields import choice, company, money, text
from isthmus.erp.entities.model import DataEntity
from isthmus.erp.entities.types import MAIN_ACCOUNT_TYPE
from isthmus.erp.schema import currency, dataarea, mainaccount
from isthmus.storage import UnitOfWork

d = dataarea.c


class _LegalEntityWriter:
    """Creating a legal entity runs the full company set-up; its id and currency cannot change afterwards."""

    def create(self, uow: UnitOfWork, company_id: str | None, values: dict[str, Any]) -> dict[str, Any]:
        legal_entity = (values.get("id") or "").strip()
        if not legal_entity:
            raise ValidationError("LegalEntityId is mandatory.", target="LegalEntityId")
        if not values.get("name"):
            raise ValidationError("Name is mandatory.", target="Name")
        address = {k.removeprefix("address_"): v for k, v in values.items() if k.startswith("address_") and v}
        return setup.create_company(
            uow,
            legal_entity,
            values["name"],
            currency_code=values.get("currency") or "USD",
            country=values.get("countryregion") or "USA",
            sequence_prefix=legal_entity[:2].upper(),
            address=address,
            fiscal_years=_default_years(),
        )

    def update(self, uow: UnitOfWork, company_id: str | None, row: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        for column, name in (("id", "LegalEntityId"), ("currency", "AccountingCurrency")):
            if column in changes and changes[column] != row[column]:
                raise ValidationError(f"{name} of legal entity {row['id']} cannot be changed.", target=name)
        changed = {k: v for k, v in changes.items() if row.get(k) != v}
        return uow.update(dataarea, row["recid"], changed, before=row) if changed else row

    def delete(self, uow: UnitOfWork, company_id: str | None, row: dict[str, Any]) -> None:
        raise ValidationError(
            f"Legal entity {row['id']} cannot be deleted through the API; its data would be orphaned.",
            target="LegalEntityId",
        )


def _default_years() -> range:
    year = dt.date.today().year
    return range(year - 3, year + 2)


LEGAL_ENTITIES = DataEntity(
    name="LegalEntity",
    set_name="LegalEntities",
    physical_name="OMLegalEntity",
    label="Legal entities",
    category="Reference",
    table=dataarea,
    fields=(
        text("LegalEntityId", d.id, key=True),
        text("Name", d.name, mandatory=True),
        text("AccountingCurrency", d.currency),
        text("AddressCountryRegionId", d.countryregion),
        text("FiscalCalendar", d.fiscalcalendar, read_only=True),
        text("PartyNumber", d.partynumber),
        text("AddressStreet", d.address_street),
        text("AddressCity", d.address_city),
        text("AddressState", d.address_state),
        text("AddressZipCode", d.address_zipcode),
        text("AddressCounty", d.address_county),
    ),
    writer=_LegalEntityWriter(),
)

cur = currency.c
CURRENCIES = DataEntity(
    name="Currency",
    set_name="Currencies",
    physical_name="CurrencyEntity",
    label="Currencies",
    category="Reference",
    table=currency,
    fields=(
        text("CurrencyCode", cur.currencycode, key=True),
        text("Name", cur.name),
        text("Symbol", cur.symbol),
        money("RoundingPrecision", cur.roundingprecision),
    ),
)

m = mainaccount.c
MAIN_ACCOUNTS = DataEntity(
    name="MainAccount",
    set_name="MainAccounts",
    physical_name="MainAccountEntity",
    label="Main accounts",
    category="Reference",
    table=mainaccount,
    company_column=m.dataareaid,
    fields=(
        company(m.dataareaid),
        text("MainAccountId", m.mainaccountid, key=True),
        text("Name", m.name),
        choice("MainAccountType", m.type, MAIN_ACCOUNT_TYPE),
    ),
)
