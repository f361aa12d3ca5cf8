"""The shape of a seed run, decided up front from ``customers``, ``seed`` and ``today`` alone: which
companies, how many customers and orders each gets, which customer each order belongs to, and the ordered list
of tasks (each one transaction) the generator runs. Because the plan is a pure function of its inputs, a
resumed run rebuilds exactly the same plan and can skip the tasks already committed.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

CUSTOMER_CHUNK = 50_000
"""Customers per transaction (and per checkpoint)."""

ORDER_CHUNK = 10_000
"""Sales orders per transaction; each one brings lines, an invoice, ledger and inventory rows along."""

ITEMS_PER_COMPANY = 180
SERVICES_PER_COMPANY = 20
PRODUCTS_PER_COMPANY = ITEMS_PER_COMPANY + SERVICES_PER_COMPANY

ORDER_RATIO = 10
"""About one customer in ``ORDER_RATIO`` has a sales order."""

MIN_ORDERS_PER_COMPANY = 20
"""Floor so that small runs still show every order status (capped by the number of customers)."""

MAX_LINES_PER_ORDER = 5
MAX_ITEM_QTY = 10


@dataclass(frozen=True)
class CompanyProfile:
    """A demo legal entity and what its customers look like."""

    id: str
    name: str
    currency: str
    country: str
    prefix: str
    share: float
    language: str
    phone_digits: int
    """Digits the generator appends to a city's phone prefix."""
    house_number_first: bool
    """``12 High Street`` (USA, GBR) rather than ``Hauptstraße 12`` (DEU)."""
    address: dict[str, str]


def _address(street: str, city: str, state: str, zipcode: str, county: str, country: str) -> dict[str, str]:
    return {
        "street": street,
        "city": city,
        "state": state,
        "zipcode": zipcode,
        "county": county,
        "countryregion": country,
    }


COMPANIES: tuple[CompanyProfile, ...] = (
    CompanyProfile(
        id="usmf",
        name="Contoso Entertainment System USA",
        currency="USD",
        country="USA",
        prefix="US",
        share=0.6,
        language="en-us",
        phone_digits=2,
        house_number_first=True,
        address=_address("123 Coffee Street", "Redmond", "WA", "98052", "KING", "USA"),
    ),
    CompanyProfile(
        id="demf",
        name="Contoso Entertainment System Germany",
        currency="EUR",
        country="DEU",
        prefix="DE",
        share=0.3,
        language="de",
        phone_digits=6,
        house_number_first=False,
        address=_address("Leopoldstraße 25", "München", "BY", "80802", "M", "DEU"),
    ),
    CompanyProfile(
        id="gbsi",
        name="Contoso Entertainment System UK",
        currency="GBP",
        country="GBR",
        prefix="GB",
        share=0.1,
        language="en-gb",
        phone_digits=3,
        house_number_first=True,
        address=_address("1 Victoria Embankment", "London", "ENG", "EC4Y 0DX", "LND", "GBR"),
    ),
)


@dataclass(frozen=True)
class CompanyPlan:
    """One company's sizes. Customer *k* is the k-th number of its customer-account sequence (``US-0000042``
    is 42).

    Orders hang off customer blocks: block *j* (1 ≤ j ≤ ``orders``) is customers ``j*stride+1 … (j+1)*stride``
    and exactly one customer of the block, chosen by the seed, has the block's order. Block 0 has no orders,
    which keeps the demo customer (usmf's first) free of generated orders."""

    profile: CompanyProfile
    index: int
    customers: int
    first_bulk_customer: int
    stride: int
    orders: int

    @property
    def id(self) -> str:
        return self.profile.id


@dataclass(frozen=True)
class Task:
    """One transaction of the run. ``key`` is what the checkpoint records; ``first``..``last`` is the range of
    customers (``customers`` stage) or order blocks (``orders`` stage) it covers."""

    key: str
    stage: str
    company: str | None = None
    first: int = 0
    last: int = 0

    @property
    def size(self) -> int:
        return self.last - self.first + 1 if self.last >= self.first else 1


# Stage names, in run order; they are what the progress callback receives.
STAGE_SETUP = "companies"
STAGE_PRODUCTS = "products"
STAGE_DEMO = "demo scenario"
STAGE_CUSTOMERS = "customers"
STAGE_ORDERS = "sales orders"
STAGE_CLOSE = "year-end close"
STAGES = (STAGE_SETUP, STAGE_PRODUCTS, STAGE_DEMO, STAGE_CUSTOMERS, STAGE_ORDERS, STAGE_CLOSE)


@dataclass(frozen=True)
class Plan:
    customers: int
    seed: int
    today: dt.date
    companies: tuple[CompanyPlan, ...]

    @property
    def fiscal_years(self) -> range:
        return range(self.today.year - 3, self.today.year + 2)

    @property
    def closed_years(self) -> tuple[int, ...]:
        """Years older than last year get the year-end close and permanently closed periods."""
        return tuple(y for y in self.fiscal_years if y < self.today.year - 1)

    def company(self, company_id: str) -> CompanyPlan:
        return next(c for c in self.companies if c.id == company_id)

    def tasks(self) -> list[Task]:
        tasks = [Task("setup", STAGE_SETUP)]
        tasks += [Task(f"products:{c.id}", STAGE_PRODUCTS, c.id) for c in self.companies]
        tasks.append(Task("demo", STAGE_DEMO))
        for c in self.companies:
            tasks += _chunks(
                "customers", STAGE_CUSTOMERS, c.id, c.first_bulk_customer, c.customers, CUSTOMER_CHUNK
            )
        for c in self.companies:
            tasks += _chunks("orders", STAGE_ORDERS, c.id, 1, c.orders, ORDER_CHUNK)
        tasks.append(Task("close", STAGE_CLOSE))
        return tasks


def _chunks(prefix: str, stage: str, company: str, first: int, last: int, size: int) -> list[Task]:
    return [
        Task(f"{prefix}:{company}:{start}", stage, company, start, min(start + size - 1, last))
        for start in range(first, last + 1, size)
    ]


def make_plan(customers: int, seed: int, today: dt.date) -> Plan:
    """Split ``customers`` over the companies (usmf always gets at least the demo customer) and size the
    orders."""
    counts: list[int] = []
    for profile in COMPANIES[:-1]:
        counts.append(round(customers * profile.share))
    counts[0] = max(1, counts[0])
    counts.append(max(0, customers - sum(counts)))
    companies = []
    for index, (profile, count) in enumerate(zip(COMPANIES, counts, strict=True)):
        wanted = max(math.ceil(count / ORDER_RATIO), MIN_ORDERS_PER_COMPANY)
        stride = max(1, count // (wanted + 1))
        orders = max(0, min(wanted, count // stride - 1))
        # usmf's customer 1 is the demo customer, created by the business logic before the bulk customers.
        first_bulk = 2 if index == 0 else 1
        companies.append(CompanyPlan(profile, index, count, first_bulk, stride, orders))
    return Plan(customers, seed, today, tuple(companies))
