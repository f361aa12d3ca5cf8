"""Base data every ERP and API test starts from (built once per backend, copied per test).

usmf (USD): customers US-001 "Contoso Retail San Diego" (credit limit 2,000.00, mandatory), US-002 "Fabrikam"
(no limit), US-003 person Jane Doe; items T0001 speaker (150.00, cost 80.00) and T0002 cable (10.00, cost 2.00) with
1,000 each received on 2024-01-05, service S0001 installation (100.00).
demf (EUR): customer DE-001 "Contoso Europe"; item D0001.
Fiscal years 2023–2027 are open in both companies.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from isthmus.erp import customers, inventory, products, setup
from isthmus.storage import UnitOfWork

YEARS = range(2023, 2028)
RECEIPT_DATE = dt.date(2024, 1, 5)


def build_base_data(uow: UnitOfWork) -> None:
    setup.create_company(
        uow, "usmf", "Contoso Entertainment System USA", currency_code="USD", country="USA", sequence_prefix="US",
        fiscal_years=YEARS, address={"street": "123 Coffee Street", "city": "Redmond", "state": "WA", "zipcode": "98052"},
    )
    setup.create_company(
        uow, "demf", "Contoso Entertainment System Germany", currency_code="EUR", country="DEU", sequence_prefix="DE",
        fiscal_years=YEARS,
    )
    customers.create(uow, "usmf", {
        "accountnum": "US-001", "name": "Contoso Retail San Diego", "custgroup": "10",
        "creditmax": Decimal("2000"), "mandatorycreditlimit": True, "email": "sandiego@contoso.example",
        "phone": "+1 555 0100", "delivery_street": "1 Harbor Drive", "delivery_city": "San Diego",
        "delivery_state": "CA", "delivery_zipcode": "92101", "delivery_countryregion": "USA",
        "invoice_street": "PO Box 100", "invoice_city": "San Diego", "invoice_state": "CA",
        "invoice_zipcode": "92102", "invoice_countryregion": "USA",
    })
    customers.create(uow, "usmf", {"accountnum": "US-002", "name": "Fabrikam", "custgroup": "20",
                                   "delivery_city": "Seattle", "delivery_countryregion": "USA"})
    customers.create(uow, "usmf", {"accountnum": "US-003", "partytype": "Person", "firstname": "Jane",
                                   "lastname": "Doe", "custgroup": "30", "delivery_city": "Portland"})
    customers.create(uow, "demf", {"accountnum": "DE-001", "name": "Contoso Europe", "custgroup": "10",
                                   "delivery_city": "Berlin", "delivery_countryregion": "DEU"})
    products.create(uow, "usmf", {"itemid": "T0001", "name": "Speaker", "salesprice": Decimal("150"), "unitcost": Decimal("80")})
    products.create(uow, "usmf", {"itemid": "T0002", "name": "Cable", "salesprice": Decimal("10"), "unitcost": Decimal("2")})
    products.create(uow, "usmf", {"itemid": "S0001", "name": "Installation", "producttype": "Service",
                                  "salesprice": Decimal("100"), "salesunit": "h"})
    products.create(uow, "demf", {"itemid": "D0001", "name": "Lautsprecher", "salesprice": Decimal("140"), "unitcost": Decimal("75")})
    for company, item in (("usmf", "T0001"), ("usmf", "T0002"), ("demf", "D0001")):
        inventory.post_receipt(uow, company, item, 1000, date=RECEIPT_DATE)
