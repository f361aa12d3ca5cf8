"""Product and inventory data entities: ReleasedProductsV2 (with PostInventoryReceipt), UnitsOfMeasure and the
read-only InventoryTransactions."""

from __future__ import annotations

from typing import Any

from isthmus.erp import inventory, products
from isthmus.erp.entities.fields import choice, company, date, integer, money, text
from isthmus.erp.entities.model import DataEntity, EntityAction
from isthmus.erp.entities.types import ISSUE_STATUS, PRODUCT_TYPE, RECEIPT_STATUS
from isthmus.erp.schema import inventtable, inventtrans, unitofmeasure
from isthmus.odata.edm import Parameter
from isthmus.storage import UnitOfWork

p = inventtable.c


class _ProductWriter:
    def create(self, uow: UnitOfWork, company_id: str | None, values: dict[str, Any]) -> dict[str, Any]:
        assert company_id is not None
        return products.create(uow, company_id, values)

    def update(self, uow: UnitOfWork, company_id: str | None, row: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        assert company_id is not None
        return products.update(uow, company_id, row["itemid"], changes)

    def delete(self, uow: UnitOfWork, company_id: str | None, row: dict[str, Any]) -> None:
        assert company_id is not None
        products.delete(uow, company_id, row["itemid"])


def _receive(uow: UnitOfWork, company_id: str | None, row: dict[str, Any], params: dict[str, Any]) -> str:
    assert company_id is not None
    receipt = inventory.post_receipt(
        uow, company_id, row["itemid"], params.get("Quantity"), unit_cost=params.get("UnitCost"), date=params.get("ReceiptDate")
    )
    return receipt["voucher"]


RELEASED_PRODUCTS = DataEntity(
    name="ReleasedProductV2",
    set_name="ReleasedProductsV2",
    physical_name="EcoResReleasedProductV2Entity",
    label="Released products V2",
    category="Master",
    table=inventtable,
    company_column=p.dataareaid,
    fields=(
        company(p.dataareaid),
        text("ItemNumber", p.itemid, key=True),
        text("ProductNumber", p.productnumber),
        text("ProductName", p.name, mandatory=True),
        text("ProductDescription", p.description),
        choice("ProductType", p.producttype, PRODUCT_TYPE),
        text("ProductGroupId", p.itemgroup),
        money("SalesPrice", p.salesprice),
        text("SalesUnitSymbol", p.salesunit),
        money("UnitCost", p.unitcost),
    ),
    actions=(
        EntityAction(
            "PostInventoryReceipt",
            _receive,
            parameters=(
                Parameter("Quantity", "Edm.Decimal", nullable=False),
                Parameter("UnitCost", "Edm.Decimal"),
                Parameter("ReceiptDate", "Edm.Date"),
            ),
            returns="Edm.String",
            description="Receive the item into inventory; returns the inventory voucher.",
        ),
    ),
    writer=_ProductWriter(),
)

u = unitofmeasure.c
UNITS = DataEntity(
    name="UnitOfMeasure",
    set_name="UnitsOfMeasure",
    physical_name="UnitOfMeasureEntity",
    label="Units",
    category="Reference",
    table=unitofmeasure,
    fields=(
        text("UnitSymbol", u.symbol, key=True),
        text("UnitDescription", u.description),
        integer("DecimalPrecision", u.decimalprecision),
    ),
)

i = inventtrans.c
INVENTORY_TRANSACTIONS = DataEntity(
    name="InventoryTransaction",
    set_name="InventoryTransactions",
    physical_name="InventTransEntity",
    label="Inventory transactions",
    category="Transaction",
    table=inventtrans,
    company_column=i.dataareaid,
    fields=(
        company(i.dataareaid),
        text("InventoryLotId", i.inventtransid, key=True),
        text("ItemNumber", i.itemid),
        text("ReferenceCategory", i.referencecategory),
        text("ReferenceNumber", i.referenceid),
        money("Quantity", i.qty),
        money("CostAmountPhysical", i.costamountphysical),
        money("CostAmountPosted", i.costamountposted),
        choice("IssueStatus", i.statusissue, ISSUE_STATUS),
        choice("ReceiptStatus", i.statusreceipt, RECEIPT_STATUS),
        date("PhysicalDate", i.datephysical),
        date("FinancialDate", i.datefinancial),
        text("InvoiceNumber", i.invoiceid),
        text("Voucher", i.voucher),
    ),
)
