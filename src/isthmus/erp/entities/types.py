"""Enum types and codecs the ERP's data entities share (finance and operations' ``NoYes``, ``CustVendorBlocked``...)."""

from __future__ import annotations

from isthmus.erp.entities.model import Codec
from isthmus.odata.edm import EnumType

NOYES = EnumType("NoYes", (("No", 0), ("Yes", 1)))
NOYES_CODEC = Codec(to_api=lambda v: "Yes" if v else "No", to_storage=lambda v: v in ("Yes", True))

BLOCKED = EnumType(
    "CustVendorBlocked",
    (("No", 0), ("Invoice", 1), ("All", 2), ("Payment", 3), ("Requisition", 4), ("Never", 5)),
)
PARTY_TYPE = EnumType("DirPartyBaseType", (("Organization", 1), ("Person", 2)))
PRODUCT_TYPE = EnumType("EcoResProductType", (("Item", 1), ("Service", 2)))
SALES_STATUS = EnumType("SalesStatus", (("Backorder", 1), ("Delivered", 2), ("Invoiced", 3), ("Canceled", 4)))
PROCESSING_STATUS = EnumType(
    "SalesOrderProcessingStatus",
    (("Open", 0), ("Confirmed", 1), ("Delivered", 2), ("Invoiced", 3), ("Cancelled", 4)),
)
CUST_TRANS_TYPE = EnumType("LedgerTransType", (("Invoice", 1), ("Payment", 2)))
PERIOD_STATUS = EnumType("FiscalPeriodStatus", (("Open", 0), ("OnHold", 1), ("PermanentlyClosed", 2)))
PERIOD_TYPE = EnumType("FiscalPeriodType", (("Opening", 0), ("Operating", 1), ("Closing", 2)))
YEAR_CLOSE_STATUS = EnumType("YearEndCloseStatus", (("NotClosed", 0), ("Closed", 1)))
MAIN_ACCOUNT_TYPE = EnumType(
    "DimensionLedgerAccountType", (("Asset", 0), ("Liability", 1), ("Equity", 2), ("Revenue", 3), ("Expense", 4))
)
ISSUE_STATUS = EnumType("StatusIssue", (("None", 0), ("Sold", 1), ("Deducted", 2), ("OnOrder", 3)))
RECEIPT_STATUS = EnumType("StatusReceipt", (("None", 0), ("Purchased", 1), ("Received", 2)))

COMPANY_CODEC = Codec(to_api=lambda v: v, to_storage=lambda v: v.lower() if isinstance(v, str) else v)
"""Company ids are case-insensitive, as in finance and operations; they are stored lower case."""
