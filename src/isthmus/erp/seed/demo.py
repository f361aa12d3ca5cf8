"""The fixed records of the product's demo scenario, created through the business logic (not the bulk loaders)
so they are exactly what a user would have made.

In company ``usmf``, whatever the number of customers and the seed:

* customer ``US-0000001`` "Adventure Works" (organisation, group 10, Net30, Redmond WA), credit limit 2,000.00
  USD, mandatory, not on hold, balance 0.00, with no other orders and no transactions;
* its only sales order ``USSO-00000001``, Open, dated ``today``, one line: 2 × ``D0001`` at 1,500.00 =
  3,000.00 USD.

Scenario 1: confirming ``USSO-00000001`` fails with ``CreditLimitExceededError`` (0.00 + 0.00 + 3,000.00 >
2,000.00). Scenario 2: raise the customer's credit limit to 5,000.00 and the same confirmation succeeds.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from isthmus.erp import customers, sales
from isthmus.errors import ConfigurationError
from isthmus.storage import UnitOfWork

DEMO_COMPANY = "usmf"
DEMO_CUSTOMER = "US-0000001"
DEMO_CUSTOMER_NAME = "Adventure Works"
DEMO_CREDIT_LIMIT = Decimal("2000.00")
DEMO_RAISED_CREDIT_LIMIT = Decimal("5000.00")
DEMO_ORDER = "USSO-00000001"
DEMO_ORDER_AMOUNT = Decimal("3000.00")
DEMO_ITEM = "D0001"

_ADDRESS = {
    "street": "4567 Main Street",
    "city": "Redmond",
    "state": "WA",
    "zipcode": "98052",
    "county": "KING",
    "countryregion": "USA",
}


def create_demo(uow: UnitOfWork, today: dt.date) -> None:
    """Create the demo customer and its order. Runs after the products and before any bulk customer or order,
    so both get the first number of their sequences."""
    customer = customers.create(
        uow,
        DEMO_COMPANY,
        {
            "name": DEMO_CUSTOMER_NAME,
            "partytype": "Organization",
            "custgroup": "10",
            "creditmax": DEMO_CREDIT_LIMIT,
            "mandatorycreditlimit": True,
            "email": "purchasing@adventure-works.example.com",
            "phone": "+1 425 555 0100",
            "url": "https://www.adventure-works.example.com",
            **{f"delivery_{k}": v for k, v in _ADDRESS.items()},
            **{f"invoice_{k}": v for k, v in _ADDRESS.items()},
        },
    )
    order = sales.create(
        uow,
        DEMO_COMPANY,
        {"custaccount": customer["accountnum"], "orderdate": today, "customerref": "AW-PO-1001"},
        [{"itemid": DEMO_ITEM, "qty": Decimal(2), "salesprice": DEMO_ORDER_AMOUNT / 2}],
    )
    if (customer["accountnum"], order["salesid"]) != (DEMO_CUSTOMER, DEMO_ORDER):
        raise ConfigurationError(
            f"The demo records got {customer['accountnum']} and {order['salesid']} instead of "
            f"{DEMO_CUSTOMER} and {DEMO_ORDER}: company {DEMO_COMPANY} already had customers or orders.",
            next_step="Seed into an empty ERP database.",
        )
