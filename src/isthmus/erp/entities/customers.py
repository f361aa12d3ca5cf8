"""Customer data entities: CustomersV3, CustomerGroups, PaymentTerms and the read-only CustomerTransactions."""

from __future__ import annotations

from typing import Any

from isthmus.erp import customers, payments
from isthmus.erp.entities.fields import choice, company, date, integer, money, noyes, text
from isthmus.erp.entities.model import DataEntity, EntityAction, Navigation
from isthmus.erp.entities.types import BLOCKED, CUST_TRANS_TYPE, PARTY_TYPE
from isthmus.erp.entities.writers import TableWriter
from isthmus.erp.schema import custgroup, custtable, custtrans, paymterm
from isthmus.odata.edm import Parameter
from isthmus.storage import UnitOfWork

c = custtable.c


class _CustomerWriter:
    def create(self, uow: UnitOfWork, company_id: str | None, values: dict[str, Any]) -> dict[str, Any]:
        assert company_id is not None
        return customers.create(uow, company_id, values)

    def update(self, uow: UnitOfWork, company_id: str | None, row: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        assert company_id is not None
        return customers.update(uow, company_id, row["accountnum"], changes)

    def delete(self, uow: UnitOfWork, company_id: str | None, row: dict[str, Any]) -> None:
        assert company_id is not None
        customers.delete(uow, company_id, row["accountnum"])


def _post_payment(uow: UnitOfWork, company_id: str | None, row: dict[str, Any], params: dict[str, Any]) -> str:
    assert company_id is not None
    result = payments.post_payment(
        uow,
        company_id,
        row["accountnum"],
        params.get("Amount"),
        date=params.get("PaymentDate"),
        reference=params.get("PaymentReference"),
    )
    return result["payment"]["voucher"]


def _address(prefix: str, table_prefix: str) -> list:
    return [
        text(f"{prefix}AddressStreet", c[f"{table_prefix}_street"]),
        text(f"{prefix}AddressCity", c[f"{table_prefix}_city"]),
        text(f"{prefix}AddressState", c[f"{table_prefix}_state"]),
        text(f"{prefix}AddressZipCode", c[f"{table_prefix}_zipcode"]),
        text(f"{prefix}AddressCounty", c[f"{table_prefix}_county"]),
        text(f"{prefix}AddressCountryRegionISOCode", c[f"{table_prefix}_countryregion"]),
    ]


CUSTOMERS = DataEntity(
    name="CustomerV3",
    set_name="CustomersV3",
    physical_name="CustCustomerV3Entity",
    label="Customers V3",
    category="Master",
    table=custtable,
    company_column=c.dataareaid,
    fields=(
        company(c.dataareaid),
        text("CustomerAccount", c.accountnum, key=True),
        text("PartyNumber", c.partynumber),
        choice("PartyType", c.partytype, PARTY_TYPE),
        text("OrganizationName", c.name),
        text("PersonFirstName", c.firstname),
        text("PersonMiddleName", c.middlename),
        text("PersonLastName", c.lastname),
        text("CustomerGroupId", c.custgroup, mandatory=True),
        text("SalesCurrencyCode", c.currency),
        money("CreditLimit", c.creditmax),
        noyes("CreditLimitIsMandatory", c.mandatorycreditlimit),
        choice("OnHoldStatus", c.blocked, BLOCKED),
        text("PaymentTerms", c.paymtermid),
        text("InvoiceAccount", c.invoiceaccount),
        text("LanguageId", c.languageid),
        text("PrimaryContactEmail", c.email),
        text("PrimaryContactPhone", c.phone),
        text("PrimaryContactURL", c.url),
        text("SalesMemo", c.salesmemo),
        *_address("Delivery", "delivery"),
        *_address("Invoice", "invoice"),
    ),
    navigation=(
        Navigation("SalesOrders", "SalesOrderHeadersV2", True, (("dataAreaId", "dataAreaId"), ("CustomerAccount", "OrderingCustomerAccountNumber"))),
        Navigation("CustomerTransactions", "CustomerTransactions", True, (("dataAreaId", "dataAreaId"), ("CustomerAccount", "CustomerAccount"))),
        Navigation("CustomerGroup", "CustomerGroups", False, (("dataAreaId", "dataAreaId"), ("CustomerGroupId", "CustomerGroupId"))),
    ),
    actions=(
        EntityAction(
            "PostPayment",
            _post_payment,
            parameters=(
                Parameter("Amount", "Edm.Decimal", nullable=False),
                Parameter("PaymentDate", "Edm.Date"),
                Parameter("PaymentReference", "Edm.String"),
            ),
            returns="Edm.String",
            description="Post a customer payment; returns the payment voucher.",
        ),
    ),
    writer=_CustomerWriter(),
)

g = custgroup.c
CUSTOMER_GROUPS = DataEntity(
    name="CustomerGroup",
    set_name="CustomerGroups",
    physical_name="CustCustomerGroupEntity",
    label="Customer groups",
    category="Reference",
    table=custgroup,
    company_column=g.dataareaid,
    fields=(
        company(g.dataareaid),
        text("CustomerGroupId", g.custgroup, key=True),
        text("Description", g.name),
        text("PaymentTermId", g.paymtermid),
    ),
    writer=TableWriter(custgroup, key_columns=("custgroup",), references={"paymtermid": (paymterm, "paymtermid", "Terms of payment")},
                       in_use=((custtable, "custgroup", "customers"),)),
)

t = paymterm.c
PAYMENT_TERMS = DataEntity(
    name="PaymentTerm",
    set_name="PaymentTerms",
    physical_name="PaymentTermEntity",
    label="Terms of payment",
    category="Reference",
    table=paymterm,
    company_column=t.dataareaid,
    fields=(
        company(t.dataareaid),
        text("Name", t.paymtermid, key=True),
        text("Description", t.description),
        integer("NumberOfDays", t.numofdays),
    ),
    writer=TableWriter(paymterm, key_columns=("paymtermid",), in_use=((custtable, "paymtermid", "customers"),)),
)

x = custtrans.c
CUSTOMER_TRANSACTIONS = DataEntity(
    name="CustomerTransaction",
    set_name="CustomerTransactions",
    physical_name="CustTransEntity",
    label="Customer transactions",
    category="Transaction",
    table=custtrans,
    company_column=x.dataareaid,
    fields=(
        company(x.dataareaid),
        text("CustomerAccount", x.accountnum, key=True),
        text("Voucher", x.voucher, key=True),
        date("TransactionDate", x.transdate),
        choice("TransactionType", x.transtype, CUST_TRANS_TYPE),
        text("InvoiceNumber", x.invoice),
        text("PaymentReference", x.paymentreference),
        text("Description", x.text),
        money("AmountInTransactionCurrency", x.amountcur),
        text("CurrencyCode", x.currency),
        money("SettledAmount", x.settleamountcur),
        date("DueDate", x.duedate),
        date("ClosedDate", x.closed),
    ),
)
