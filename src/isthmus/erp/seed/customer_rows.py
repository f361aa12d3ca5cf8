"""Bulk customers: one ``INSERT … SELECT`` per chunk writes up to ``CUSTOMER_CHUNK`` ``custtable`` rows.

Customer *k* of a company gets account ``format_number(Cust_AccountNum format, k)`` and the matching party
number, both taken from (and afterwards consumed in) the company's number sequences. About 15 % are persons;
organisations are named from two word lists and a legal suffix of the company's country. Addresses, phone
numbers and e-mail are drawn from the country's lists (see ``names``). Customer groups 10/20/30 with the
group's terms of payment; a quarter have no credit limit (0), the rest 1,000–100,000 (persons up to 10,000),
and a fifth of those are mandatory. About 3 % are on hold (Invoice, All or Payment) — never a customer that
has a generated order, so the orders never contradict the hold.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from isthmus.erp import numbering
from isthmus.erp.seed import ledger_rows
from isthmus.erp.seed.expressions import Hasher, formatted, insert_select, padded
from isthmus.erp.seed.plan import CompanyPlan, Task
from isthmus.erp.seed.workspace import Workspace
from isthmus.errors import ConfigurationError

PERSON_PERCENT = 15
ON_HOLD_PERCENT = 3


def is_order_customer(company: CompanyPlan, hasher: Hasher, k: str) -> str:
    """SQL: is customer ``k`` the one customer of its block that gets a generated order? (See
    ``CompanyPlan``.)"""
    s = company.stride
    block = f"(({k} - 1) / {s})"
    return (
        f"({block} >= 1 AND {block} <= {company.orders} AND ({k} - 1) % {s} = "
        f"{hasher.pick(block, 'pick', s)})"
    )


def order_customer(company: CompanyPlan, hasher: Hasher, j: str) -> str:
    """SQL: the customer number that owns the order of block ``j``."""
    s = company.stride
    return f"({j} * {s} + 1 + {hasher.pick(j, 'pick', s)})"


def load_customers(
    conn: Connection, ws: Workspace, company: CompanyPlan, task: Task, params: dict[str, Any]
) -> None:
    seqs = ledger_rows.read_sequences(conn, company.id)
    accounts, parties = seqs[numbering.CUSTOMER_ACCOUNT], seqs[numbering.PARTY_NUMBER]
    if accounts.next != task.first:
        raise ConfigurationError(
            f"Customer account sequence of {company.id} is at {accounts.next}, the seed expected "
            f"{task.first}.",
            next_step="Seed into an empty ERP database (or resume the run that started it).",
        )
    joins, values = _columns(ws, company)
    values["accountnum"] = formatted(accounts.format, "x.k")
    values["partynumber"] = formatted(parties.format, f"{parties.next} - {task.first} + x.k")
    source = (
        f"FROM (SELECT b.n + {task.first} AS k FROM seed_number b WHERE b.n < {task.size}) x {joins} "
        "ORDER BY x.k"
    )
    conn.execute(insert_select("custtable", values, source), params)
    ledger_rows.advance(conn, company.id, numbering.CUSTOMER_ACCOUNT, task.size)
    ledger_rows.advance(conn, company.id, numbering.PARTY_NUMBER, task.size)


def _columns(ws: Workspace, company: CompanyPlan) -> tuple[str, dict[str, str]]:
    """The joins to the word lists and, per ``custtable`` column, its SQL expression of customer number
    ``x.k``."""
    h = Hasher(ws.plan.seed, company.index + 1)
    person = f"({h.percent('x.k', 'kind')} < {PERSON_PERCENT})"
    values = {"dataareaid": ":company", **_party(h, company, person), **_terms(h, company, person)}
    values |= _addresses(h, company, person)
    group_pct = h.percent("x.k", "group")
    group = (
        f"(CASE WHEN {person} THEN '30' WHEN {group_pct} < 50 THEN '10' WHEN {group_pct} < 65 THEN '20' ELSE "
        "'30' END)"
    )
    # The group's terms of payment come with the group, as customers.create takes them.
    joins = [
        *_word_joins(ws, company, h),
        f"LEFT JOIN custgroup g ON g.dataareaid = :company AND g.custgroup = {group}",
    ]
    return " ".join(joins), values


def _word_joins(ws: Workspace, company: CompanyPlan, h: Hasher) -> list[str]:
    """One word of each list per customer: organisation name parts (three digits of one hash, so the parts are
    independent), a person's first and last name, a street and a city of the company's country."""
    country = company.profile.country
    sizes = {name: ws.words(name)[1] for name in ("org1", "org2", f"suffix:{country}")}
    org = h.h("x.k", "org")
    picks = {
        "o1": ("org1", f"{org} % {sizes['org1']}"),
        "o2": ("org2", f"({org} / {sizes['org1']}) % {sizes['org2']}"),
        "sx": (
            f"suffix:{country}",
            f"({org} / {sizes['org1'] * sizes['org2']}) % {sizes[f'suffix:{country}']}",
        ),
    }
    for alias, list_name in (("pf", "first"), ("pl", "last"), ("st", "street"), ("ci", "city")):
        name = f"{list_name}:{country}"
        picks[alias] = (name, h.pick("x.k", list_name, ws.words(name)[1]))
    # LEFT JOINs although every lookup hits: SQLite then keeps the row source as the outer loop instead of
    # trying the word lists first.
    return [
        f"LEFT JOIN seed_word {alias} ON {alias}.list = {ws.words(name)[0]} AND {alias}.i = {index}"
        for alias, (name, index) in picks.items()
    ]


def _party(h: Hasher, company: CompanyPlan, person: str) -> dict[str, str]:
    digits = company.profile.phone_digits
    org_slug = "o1.slug || '-' || o2.slug"
    return {
        "partytype": f"CASE WHEN {person} THEN 'Person' ELSE 'Organization' END",
        "name": f"CASE WHEN {person} THEN pf.word || ' ' || pl.word "
        "ELSE o1.word || ' ' || o2.word || ' ' || sx.word END",
        "firstname": f"CASE WHEN {person} THEN pf.word END",
        "lastname": f"CASE WHEN {person} THEN pl.word END",
        "languageid": ":language",
        "email": f"CASE WHEN {person} THEN pf.slug || '.' || pl.slug || CAST(x.k % 1000 AS TEXT) || "
        f"'@example.net' ELSE 'info@' || {org_slug} || '.example.com' END",
        "phone": f"ci.d || {padded(h.pick('x.k', 'phone', 10**digits), digits)}",
        "url": f"CASE WHEN {person} THEN NULL ELSE 'https://www.' || {org_slug} || '.example.com' END",
    }


def _terms(h: Hasher, company: CompanyPlan, person: str) -> dict[str, str]:
    """Group (persons are retail, 30) with its terms of payment, currency, credit limit and hold."""
    credit, limit, hold = h.percent("x.k", "credit"), h.h("x.k", "limit"), h.percent("x.k", "hold")
    return {
        "custgroup": "g.custgroup",
        "paymtermid": "g.paymtermid",
        "currency": ":currency",
        "creditmax": f"CASE WHEN {credit} < 25 THEN 0 WHEN {person} THEN (2 + {limit} % 19) * 500 "
        f"ELSE (2 + {limit} % 199) * 500 END",
        "mandatorycreditlimit": f"({credit} >= 25 AND {credit} < 45)",
        # Only customers without a generated order go on hold, so no order contradicts its customer's hold.
        "blocked": f"CASE WHEN {hold} < {ON_HOLD_PERCENT} AND NOT {is_order_customer(company, h, 'x.k')} "
        f"THEN (CASE {hold} WHEN 0 THEN 'Invoice' WHEN 1 THEN 'All' ELSE 'Payment' END) ELSE 'No' END",
    }


def _addresses(h: Hasher, company: CompanyPlan, person: str) -> dict[str, str]:
    """Delivery and invoice address in the same city; a fifth of the organisations get their invoices at a PO
    box."""
    country = company.profile.country
    house = f"CAST(1 + {h.pick('x.k', 'house', 9899 if country == 'USA' else 299)} AS TEXT)"
    street = (
        f"{house} || ' ' || st.word" if company.profile.house_number_first else f"st.word || ' ' || {house}"
    )
    box = "'Postfach '" if country == "DEU" else "'PO Box '"
    billing = (
        f"CASE WHEN NOT {person} AND {h.percent('x.k', 'billing')} < 20 THEN {box} || CAST(1000 + "
        f"{h.pick('x.k', 'box', 9000)} AS TEXT) ELSE {street} END"
    )
    values: dict[str, str] = {}
    for prefix, street_sql in (("delivery", street), ("invoice", billing)):
        values |= {
            f"{prefix}_street": street_sql,
            f"{prefix}_city": "ci.word",
            f"{prefix}_state": "ci.a",
            f"{prefix}_zipcode": "ci.b",
            f"{prefix}_county": "ci.c",
            f"{prefix}_countryregion": ":country",
        }
    return values
