"""Customers: organizations and persons with contact information, a delivery and an invoice address, a sales
currency, a customer group, terms of payment, a credit limit and an on-hold status.

Rules: the account is allocated from the company's number sequence unless given, and never changes; the group,
currency, terms and invoice account must exist; a credit limit is never negative (zero means *no* limit, as in
finance and operations); a customer with transactions or sales orders cannot be deleted.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select

from isthmus.errors import ConflictError, NotFoundError, ValidationError
from isthmus.erp import numbering, validation
from isthmus.erp.schema import currency, custgroup, custtable, custtrans, dataarea, paymterm, salestable
from isthmus.storage import UnitOfWork

PARTY_TYPES = ("Organization", "Person")
BLOCKED = ("No", "Invoice", "All", "Payment", "Requisition", "Never")
"""Finance and operations' CustVendorBlocked: ``No`` is not on hold; ``Invoice`` blocks invoicing; ``All`` blocks
new orders, confirmation, invoicing and payments; ``Payment`` blocks payments; ``Never`` is never blocked."""

ADDRESS_PARTS = ("street", "city", "state", "zipcode", "county", "countryregion")


def get(conn: Connection, company: str, account: str) -> dict[str, Any]:
    row = conn.execute(
        select(custtable).where(custtable.c.dataareaid == company, custtable.c.accountnum == account)
    ).mappings().first()
    if row is None:
        raise NotFoundError(f"Customer {account} does not exist in company {company}.", target="CustomerAccount")
    return dict(row)


def balance(conn: Connection, company: str, account: str) -> Decimal:
    """The customer's open balance: every invoice minus every payment, in the customer's currency."""
    total = conn.execute(
        select(func.coalesce(func.sum(custtrans.c.amountcur), 0)).where(
            custtrans.c.dataareaid == company, custtrans.c.accountnum == account
        )
    ).scalar_one()
    return Decimal(str(total)).quantize(Decimal("0.01"))


def create(uow: UnitOfWork, company: str, values: dict[str, Any]) -> dict[str, Any]:
    conn = uow.connection
    row = dict(values)
    company_row = validation.require_reference(conn, dataarea, "id", company, "Company", target="dataAreaId")
    account = (row.get("accountnum") or "").strip()
    if not account:
        account = numbering.next_number(conn, company, numbering.CUSTOMER_ACCOUNT)
    elif conn.execute(
        select(custtable.c.recid).where(custtable.c.dataareaid == company, custtable.c.accountnum == account)
    ).first():
        raise ConflictError(f"Customer {account} already exists in company {company}.", target="accountnum")
    row["accountnum"] = account
    row["dataareaid"] = company
    if not row.get("partynumber"):
        row["partynumber"] = numbering.next_number(conn, company, numbering.PARTY_NUMBER)
    row.setdefault("partytype", "Organization")
    row.setdefault("currency", company_row["currency"])
    row.setdefault("creditmax", Decimal(0))
    row.setdefault("mandatorycreditlimit", False)
    row.setdefault("blocked", "No")
    row.setdefault("languageid", "en-us")
    if not row.get("paymtermid") and row.get("custgroup"):
        group = conn.execute(
            select(custgroup.c.paymtermid).where(
                custgroup.c.dataareaid == company, custgroup.c.custgroup == row["custgroup"]
            )
        ).scalar_one_or_none()
        row["paymtermid"] = group
    _validate(conn, company, row, changed=set(row))
    return uow.insert(custtable, row)


def update(uow: UnitOfWork, company: str, account: str, changes: dict[str, Any]) -> dict[str, Any]:
    current = get(uow.connection, company, account)
    for key in ("accountnum", "dataareaid"):
        if key in changes and changes[key] != current[key]:
            raise ValidationError(
                f"The customer account and company of {account} cannot be changed.", target=key
            )
    changed = {k for k, v in changes.items() if current.get(k) != v}
    if not changed:
        return current
    merged = {**current, **changes}
    _validate(uow.connection, company, merged, changed=changed)
    # Validation may derive columns (a person's name from its parts, a normalised credit limit): write those too.
    final = {k: v for k, v in merged.items() if current.get(k) != v}
    return uow.update(custtable, current["recid"], final, before=current)


def delete(uow: UnitOfWork, company: str, account: str) -> dict[str, Any]:
    conn = uow.connection
    current = get(conn, company, account)
    transactions = conn.execute(
        select(func.count()).where(custtrans.c.dataareaid == company, custtrans.c.accountnum == account)
    ).scalar_one()
    orders = conn.execute(
        select(func.count()).where(salestable.c.dataareaid == company, salestable.c.custaccount == account)
    ).scalar_one()
    if transactions or orders:
        raise ConflictError(
            f"Customer {account} in company {company} cannot be deleted: it has {transactions} transaction(s) and "
            f"{orders} sales order(s).",
            next_step="Put the customer on hold (OnHoldStatus = All) instead.",
        )
    return uow.delete(custtable, current["recid"])


def _validate(conn: Connection, company: str, row: dict[str, Any], *, changed: set[str]) -> None:
    """Check the merged record; only references that ``changed`` are looked up again."""
    validation.require_choice(row.get("partytype"), PARTY_TYPES, "Party type", target="partytype")
    if row["partytype"] == "Person":
        if not (row.get("firstname") or row.get("lastname") or row.get("name")):
            raise ValidationError("A person needs a first or last name.", target="lastname")
        if not row.get("name") or changed & {"firstname", "middlename", "lastname"}:
            parts = (row.get("firstname"), row.get("middlename"), row.get("lastname"))
            row["name"] = " ".join(p for p in parts if p) or row.get("name")
    validation.require_text(row, "name", "The customer name", target="name")
    if len(row["name"]) > 100:
        raise ValidationError("The customer name is longer than 100 characters.", target="name")
    validation.require_text(row, "custgroup", "The customer group", target="custgroup")
    if "custgroup" in changed:
        validation.require_reference(conn, custgroup, "custgroup", row["custgroup"], "Customer group", company=company)
    if "currency" in changed:
        validation.require_reference(conn, currency, "currencycode", row["currency"], "Currency", target="currency")
    if "paymtermid" in changed and row.get("paymtermid"):
        validation.require_reference(conn, paymterm, "paymtermid", row["paymtermid"], "Terms of payment", company=company)
    if "creditmax" in changed:
        row["creditmax"] = validation.amount(
            row.get("creditmax") or 0, "The credit limit", target="creditmax", minimum=Decimal(0)
        )
    validation.require_choice(row.get("blocked"), BLOCKED, "On-hold status", target="blocked")
    if not isinstance(row.get("mandatorycreditlimit"), bool):
        raise ValidationError("Credit limit is mandatory must be Yes or No.", target="mandatorycreditlimit")
    if "invoiceaccount" in changed and row.get("invoiceaccount") and row["invoiceaccount"] != row["accountnum"]:
        validation.require_reference(
            conn, custtable, "accountnum", row["invoiceaccount"], "Invoice account", company=company,
            target="invoiceaccount",
        )
    if "email" in changed:
        validation.email(row.get("email"), target="email")
    for prefix in ("delivery", "invoice"):
        column = f"{prefix}_countryregion"
        if column in changed:
            validation.country(row.get(column), target=column)
