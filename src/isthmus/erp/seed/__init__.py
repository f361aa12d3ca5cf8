"""Deterministic demo data for the ERP: ``generate(database, customers=N, seed=42)``.

The same N, seed and ``today`` always give the same rows (apart from surrogate keys on PostgreSQL and the
audit timestamps, which record when the seed ran). The data set, for N customers:

* companies ``usmf`` (USD, USA, numbers ``US…``), ``demf`` (EUR, DEU, ``DE…``) and ``gbsi`` (GBP, GBR,
  ``GB…``), made by ``setup.create_company``, with fiscal years ``today.year-3`` … ``today.year+1``;
* about 60 % / 30 % / 10 % of the customers in usmf / demf / gbsi, accounts numbered by the company's sequence
  (``US-0000001`` …); 15 % persons; addresses, phones and e-mail of the company's country (all fictional);
* 180 items (``D0001`` …) and 20 services (``S0001`` …) per company, each item received once on the first day
  of the oldest fiscal year;
* sales orders for about one customer in ten (at least 20 per company when there are enough customers), 1–5
  lines, about 70 % invoiced and half of those paid, the rest delivered, confirmed, open or cancelled;
* the years older than last year closed (year-end voucher to retained earnings 300200) with every period
  PermanentlyClosed;
* every number sequence advanced past what the seed used, so the business logic carries on from there.

Fixed records the demo, tests and docs rely on (see ``demo``): in usmf, customer ``US-0000001`` "Adventure
Works" with a mandatory credit limit of 2,000.00 USD, balance 0, and its only order ``USSO-00000001`` — Open,
3,000.00 USD (2 × ``D0001`` at 1,500.00), dated ``today``. Confirming it raises ``CreditLimitExceededError``;
after raising the limit to 5,000.00 it confirms.

Interrupted runs resume: every chunk (50,000 customers, 10,000 orders) commits with a ``seedcheckpoint`` row,
and running ``generate`` again with the same parameters continues after the last committed chunk. The stages
``progress(stage, done, total)`` reports, in order (``STAGES``): "companies", "products", "demo scenario",
"customers", "sales orders", "year-end close"; ``done`` and ``total`` count customers and orders in those two
stages, tasks in the others.
"""

from isthmus.erp.seed.demo import (
    DEMO_COMPANY,
    DEMO_CREDIT_LIMIT,
    DEMO_CUSTOMER,
    DEMO_CUSTOMER_NAME,
    DEMO_ITEM,
    DEMO_ORDER,
    DEMO_ORDER_AMOUNT,
    DEMO_RAISED_CREDIT_LIMIT,
)
from isthmus.erp.seed.generator import generate
from isthmus.erp.seed.plan import STAGES
from isthmus.erp.seed.summary import SeedSummary

__all__ = [
    "DEMO_COMPANY",
    "DEMO_CREDIT_LIMIT",
    "DEMO_CUSTOMER",
    "DEMO_CUSTOMER_NAME",
    "DEMO_ITEM",
    "DEMO_ORDER",
    "DEMO_ORDER_AMOUNT",
    "DEMO_RAISED_CREDIT_LIMIT",
    "STAGES",
    "SeedSummary",
    "generate",
]
