"""Released products: items (stocked, costed) and services, with a sales price, a sales unit and a unit cost."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select

from isthmus.errors import ConflictError, NotFoundError, ValidationError
from isthmus.erp import validation
from isthmus.erp.schema import dataarea, inventtable, inventtrans, salesline, unitofmeasure
from isthmus.storage import UnitOfWork

PRODUCT_TYPES = ("Item", "Service")


def get(conn: Connection, company: str, item_id: str) -> dict[str, Any]:
    row = conn.execute(
        select(inventtable).where(inventtable.c.dataareaid == company, inventtable.c.itemid == item_id)
    ).mappings().first()
    if row is None:
        raise NotFoundError(f"Released product {item_id} does not exist in company {company}.", target="ItemNumber")
    return dict(row)


def create(uow: UnitOfWork, company: str, values: dict[str, Any]) -> dict[str, Any]:
    conn = uow.connection
    validation.require_reference(conn, dataarea, "id", company, "Company", target="dataAreaId")
    row = dict(values)
    item_id = validation.require_text(row, "itemid", "The item number", target="itemid")
    if conn.execute(
        select(inventtable.c.recid).where(inventtable.c.dataareaid == company, inventtable.c.itemid == item_id)
    ).first():
        raise ConflictError(f"Released product {item_id} already exists in company {company}.", target="itemid")
    row["itemid"] = item_id
    row["dataareaid"] = company
    row.setdefault("productnumber", item_id)
    row.setdefault("producttype", "Item")
    row.setdefault("salesunit", "ea")
    row.setdefault("salesprice", Decimal(0))
    row.setdefault("unitcost", Decimal(0))
    _validate(conn, row, changed=set(row))
    return uow.insert(inventtable, row)


def update(uow: UnitOfWork, company: str, item_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    current = get(uow.connection, company, item_id)
    if "itemid" in changes and changes["itemid"] != item_id:
        raise ValidationError(f"The item number of {item_id} cannot be changed.", target="itemid")
    changed = {k for k, v in changes.items() if current.get(k) != v}
    if not changed:
        return current
    merged = {**current, **changes}
    _validate(uow.connection, merged, changed=changed)
    return uow.update(inventtable, current["recid"], {k: merged[k] for k in changed}, before=current)


def delete(uow: UnitOfWork, company: str, item_id: str) -> dict[str, Any]:
    conn = uow.connection
    current = get(conn, company, item_id)
    used = conn.execute(
        select(func.count()).where(salesline.c.dataareaid == company, salesline.c.itemid == item_id)
    ).scalar_one() + conn.execute(
        select(func.count()).where(inventtrans.c.dataareaid == company, inventtrans.c.itemid == item_id)
    ).scalar_one()
    if used:
        raise ConflictError(
            f"Released product {item_id} in company {company} cannot be deleted: order lines or inventory "
            "transactions refer to it."
        )
    return uow.delete(inventtable, current["recid"])


def _validate(conn: Connection, row: dict[str, Any], *, changed: set[str]) -> None:
    validation.require_text(row, "name", "The product name", target="name")
    validation.require_choice(row.get("producttype"), PRODUCT_TYPES, "Product type", target="producttype")
    if "salesunit" in changed:
        validation.require_reference(conn, unitofmeasure, "symbol", row["salesunit"], "Unit", target="salesunit")
    for column, what in (("salesprice", "The sales price"), ("unitcost", "The unit cost")):
        if column in changed:
            row[column] = validation.amount(row.get(column) or 0, what, target=column, minimum=Decimal(0))
