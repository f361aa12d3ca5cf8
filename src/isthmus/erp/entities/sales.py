"""Sales data entities: SalesOrderHeadersV2 (with the Confirm, PostPackingSlip, PostInvoice and Cancel actions),
SalesOrderLines, and the read-only SalesInvoiceHeadersV2 and SalesInvoiceLines."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case

from isthmus.errors import ValidationError
from isthmus.erp import invoicing, sales
from isthmus.erp.entities.fields import choice, company, date, integer, money, noyes, text, timestamp
from isthmus.erp.entities.model import DataEntity, EntityAction, Navigation
from isthmus.erp.entities.types import PROCESSING_STATUS, SALES_STATUS
from isthmus.erp.schema import custinvoicejour, custinvoicetrans, salesline, salestable
from isthmus.odata.edm import Parameter
from isthmus.storage import UnitOfWork

h = salestable.c


class _OrderWriter:
    def create(self, uow: UnitOfWork, company_id: str | None, values: dict[str, Any]) -> dict[str, Any]:
        assert company_id is not None
        return sales.create(uow, company_id, values)

    def update(self, uow: UnitOfWork, company_id: str | None, row: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        assert company_id is not None
        return sales.update(uow, company_id, row["salesid"], changes)

    def delete(self, uow: UnitOfWork, company_id: str | None, row: dict[str, Any]) -> None:
        assert company_id is not None
        sales.delete(uow, company_id, row["salesid"])


class _LineWriter:
    def create(self, uow: UnitOfWork, company_id: str | None, values: dict[str, Any]) -> dict[str, Any]:
        assert company_id is not None
        sales_id = values.pop("salesid", None)
        if not sales_id:
            raise ValidationError("SalesOrderNumber is mandatory for a sales order line.", target="salesid")
        return sales.add_line(uow, company_id, sales_id, values)

    def update(self, uow: UnitOfWork, company_id: str | None, row: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        assert company_id is not None
        return sales.update_line(uow, company_id, row["inventtransid"], changes)

    def delete(self, uow: UnitOfWork, company_id: str | None, row: dict[str, Any]) -> None:
        assert company_id is not None
        sales.delete_line(uow, company_id, row["inventtransid"])


def _confirm(uow: UnitOfWork, company_id: str | None, row: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    assert company_id is not None
    return sales.confirm(uow, company_id, row["salesid"])


def _cancel(uow: UnitOfWork, company_id: str | None, row: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    assert company_id is not None
    return sales.cancel(uow, company_id, row["salesid"])


def _deliver(uow: UnitOfWork, company_id: str | None, row: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    assert company_id is not None
    return invoicing.post_packing_slip(uow, company_id, row["salesid"], date=params.get("DeliveryDate"))


def _invoice(uow: UnitOfWork, company_id: str | None, row: dict[str, Any], params: dict[str, Any]) -> str:
    assert company_id is not None
    return invoicing.post_invoice(uow, company_id, row["salesid"], date=params.get("InvoiceDate"))["invoiceid"]


_SALES_STATUS = case(
    (h.status.in_(("Open", "Confirmed")), "Backorder"),
    (h.status == "Cancelled", "Canceled"),
    else_=h.status,
)

ORDER_HEADERS = DataEntity(
    name="SalesOrderHeaderV2",
    set_name="SalesOrderHeadersV2",
    physical_name="SalesOrderHeaderV2Entity",
    label="Sales order headers V2",
    category="Document",
    table=salestable,
    company_column=h.dataareaid,
    fields=(
        company(h.dataareaid),
        text("SalesOrderNumber", h.salesid, key=True),
        text("OrderingCustomerAccountNumber", h.custaccount, mandatory=True),
        text("InvoiceCustomerAccountNumber", h.invoiceaccount),
        text("CurrencyCode", h.currency),
        choice("SalesOrderStatus", _SALES_STATUS, SALES_STATUS, read_only=True),
        choice("SalesOrderProcessingStatus", h.status, PROCESSING_STATUS, read_only=True),
        date("OrderCreationDate", h.orderdate),
        date("RequestedShippingDate", h.requesteddate),
        text("CustomersOrderReference", h.customerref),
        text("PaymentTermsName", h.paymtermid),
        noyes("IsIntercompanyOrder", h.intercompany),
        money("OrderTotalAmount", h.totalamount, read_only=True),
        timestamp("ConfirmedDateTime", h.confirmeddatetime, read_only=True),
        text("InvoiceNumber", h.invoiceid, read_only=True),
        text("DeliveryAddressStreet", h.delivery_street),
        text("DeliveryAddressCity", h.delivery_city),
        text("DeliveryAddressState", h.delivery_state),
        text("DeliveryAddressZipCode", h.delivery_zipcode),
        text("DeliveryAddressCounty", h.delivery_county),
        text("DeliveryAddressCountryRegionISOCode", h.delivery_countryregion),
    ),
    navigation=(
        Navigation("SalesOrderLines", "SalesOrderLines", True, (("dataAreaId", "dataAreaId"), ("SalesOrderNumber", "SalesOrderNumber"))),
        Navigation("Customer", "CustomersV3", False, (("dataAreaId", "dataAreaId"), ("OrderingCustomerAccountNumber", "CustomerAccount"))),
    ),
    actions=(
        EntityAction("Confirm", _confirm, description="Confirm the order after the credit check."),
        EntityAction(
            "PostPackingSlip",
            _deliver,
            parameters=(Parameter("DeliveryDate", "Edm.Date"),),
            description="Deliver the order: issue its items from inventory.",
        ),
        EntityAction(
            "PostInvoice",
            _invoice,
            parameters=(Parameter("InvoiceDate", "Edm.Date"),),
            returns="Edm.String",
            description="Invoice the order; returns the invoice number.",
        ),
        EntityAction("Cancel", _cancel, description="Cancel an open or confirmed order."),
    ),
    writer=_OrderWriter(),
)

ln = salesline.c
ORDER_LINES = DataEntity(
    name="SalesOrderLine",
    set_name="SalesOrderLines",
    physical_name="SalesOrderLineV2Entity",
    label="Sales order lines",
    category="Document",
    table=salesline,
    company_column=ln.dataareaid,
    fields=(
        company(ln.dataareaid),
        text("InventoryLotId", ln.inventtransid, key=True),
        text("SalesOrderNumber", ln.salesid, mandatory=True),
        integer("LineNumber", ln.linenum),
        text("ItemNumber", ln.itemid, mandatory=True),
        text("LineDescription", ln.name),
        money("OrderedSalesQuantity", ln.qty, mandatory=True),
        text("SalesUnitSymbol", ln.salesunit),
        money("SalesPrice", ln.salesprice),
        money("LineDiscountAmount", ln.discamount),
        money("LineAmount", ln.lineamount, read_only=True),
        text("CurrencyCode", ln.currency, read_only=True),
    ),
    navigation=(
        Navigation("SalesOrderHeader", "SalesOrderHeadersV2", False, (("dataAreaId", "dataAreaId"), ("SalesOrderNumber", "SalesOrderNumber"))),
    ),
    writer=_LineWriter(),
)

j = custinvoicejour.c
INVOICE_HEADERS = DataEntity(
    name="SalesInvoiceHeaderV2",
    set_name="SalesInvoiceHeadersV2",
    physical_name="SalesInvoiceHeaderV2Entity",
    label="Sales invoice headers V2",
    category="Document",
    table=custinvoicejour,
    company_column=j.dataareaid,
    fields=(
        company(j.dataareaid),
        text("InvoiceNumber", j.invoiceid, key=True),
        text("SalesOrderNumber", j.salesid),
        text("OrderingCustomerAccountNumber", j.orderaccount),
        text("InvoiceCustomerAccountNumber", j.invoiceaccount),
        date("InvoiceDate", j.invoicedate),
        date("PaymentDueDate", j.duedate),
        text("CurrencyCode", j.currency),
        money("TotalInvoiceAmount", j.invoiceamount),
        text("LedgerVoucher", j.ledgervoucher),
    ),
    navigation=(
        Navigation("SalesInvoiceLines", "SalesInvoiceLines", True, (("dataAreaId", "dataAreaId"), ("InvoiceNumber", "InvoiceNumber"))),
    ),
)

it = custinvoicetrans.c
INVOICE_LINES = DataEntity(
    name="SalesInvoiceLine",
    set_name="SalesInvoiceLines",
    physical_name="SalesInvoiceLineEntity",
    label="Sales invoice lines",
    category="Document",
    table=custinvoicetrans,
    company_column=it.dataareaid,
    fields=(
        company(it.dataareaid),
        text("InvoiceNumber", it.invoiceid, key=True),
        integer("LineNumber", it.linenum, key=True),
        text("ItemNumber", it.itemid),
        text("ProductName", it.name),
        money("InvoicedQuantity", it.qty),
        money("SalesPrice", it.salesprice),
        money("LineAmount", it.lineamount),
        text("InventoryLotId", it.inventtransid),
    ),
)
