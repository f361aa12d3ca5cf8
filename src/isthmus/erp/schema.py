"""The ERP's physical tables (SQLAlchemy Core), shaped after finance and operations' own tables.

Names follow finance and operations in lower case (``custtable``, ``salestable``, ``generaljournalentry``...) so that
later work (archival scenarios, virtual entities) can speak Microsoft's vocabulary. Differences, on purpose:

* a customer's party, contact information and its delivery and invoice addresses live on ``custtable`` itself rather
  than in the global address book (one row per customer keeps the hot read path to one index lookup);
* amounts are in the transaction currency, with no exchange-rate revaluation and no sales tax.

Every table has ``recid`` (surrogate key, like finance and operations' RecId), ``recversion`` (bumped on every update;
the OData ETag) and who/when audit columns. Company-specific tables carry ``dataareaid``.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

from isthmus.storage.types import Money, RecId, UtcDateTime

metadata = MetaData()


def _system_columns() -> list[Column]:
    return [
        Column("recid", RecId, primary_key=True, autoincrement=True),
        Column("recversion", Integer, nullable=False, default=1),
        Column("createddatetime", UtcDateTime),
        Column("createdby", String(40)),
        Column("modifieddatetime", UtcDateTime),
        Column("modifiedby", String(40)),
    ]


def _company() -> Column:
    return Column("dataareaid", String(8), nullable=False)


def _address(prefix: str) -> list[Column]:
    return [
        Column(f"{prefix}_street", String(250)),
        Column(f"{prefix}_city", String(60)),
        Column(f"{prefix}_state", String(10)),
        Column(f"{prefix}_zipcode", String(10)),
        Column(f"{prefix}_county", String(10)),
        Column(f"{prefix}_countryregion", String(3)),
    ]


# --- organisation and setup ----------------------------------------------------------------------------------------

dataarea = Table(
    "dataarea",
    metadata,
    *_system_columns(),
    Column("id", String(8), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("countryregion", String(3), nullable=False),
    Column("fiscalcalendar", String(20), nullable=False),
    Column("partynumber", String(20)),
    *_address("address"),
)

currency = Table(
    "currency",
    metadata,
    *_system_columns(),
    Column("currencycode", String(3), nullable=False, unique=True),
    Column("name", String(60), nullable=False),
    Column("symbol", String(5)),
    Column("roundingprecision", Money, nullable=False),
)

unitofmeasure = Table(
    "unitofmeasure",
    metadata,
    *_system_columns(),
    Column("symbol", String(10), nullable=False, unique=True),
    Column("description", String(60)),
    Column("decimalprecision", Integer, nullable=False, default=2),
)

numbersequence = Table(
    "numbersequence",
    metadata,
    *_system_columns(),
    _company(),
    Column("code", String(40), nullable=False),
    Column("format", String(40), nullable=False),
    Column("nextrec", RecId, nullable=False, default=1),
    UniqueConstraint("dataareaid", "code"),
)

paymterm = Table(
    "paymterm",
    metadata,
    *_system_columns(),
    _company(),
    Column("paymtermid", String(20), nullable=False),
    Column("description", String(60)),
    Column("numofdays", Integer, nullable=False, default=0),
    UniqueConstraint("dataareaid", "paymtermid"),
)

custgroup = Table(
    "custgroup",
    metadata,
    *_system_columns(),
    _company(),
    Column("custgroup", String(10), nullable=False),
    Column("name", String(60)),
    Column("paymtermid", String(20)),
    UniqueConstraint("dataareaid", "custgroup"),
)

mainaccount = Table(
    "mainaccount",
    metadata,
    *_system_columns(),
    _company(),
    Column("mainaccountid", String(20), nullable=False),
    Column("name", String(60), nullable=False),
    Column("type", String(20), nullable=False),  # Asset, Liability, Equity, Revenue, Expense
    UniqueConstraint("dataareaid", "mainaccountid"),
)

# --- fiscal calendars --------------------------------------------------------------------------------------------

fiscalcalendar = Table(
    "fiscalcalendar",
    metadata,
    *_system_columns(),
    Column("calendarid", String(20), nullable=False, unique=True),
    Column("description", String(60)),
)

fiscalcalendaryear = Table(
    "fiscalcalendaryear",
    metadata,
    *_system_columns(),
    Column("calendarid", String(20), nullable=False),
    Column("name", String(10), nullable=False),
    Column("startdate", Date, nullable=False),
    Column("enddate", Date, nullable=False),
    UniqueConstraint("calendarid", "name"),
)

fiscalcalendarperiod = Table(
    "fiscalcalendarperiod",
    metadata,
    *_system_columns(),
    Column("calendarid", String(20), nullable=False),
    Column("fiscalyear", String(10), nullable=False),
    Column("name", String(20), nullable=False),
    Column("type", String(10), nullable=False),  # Opening, Operating, Closing
    Column("startdate", Date, nullable=False),
    Column("enddate", Date, nullable=False),
    UniqueConstraint("calendarid", "fiscalyear", "name"),
)

ledgerperiodstatus = Table(
    "ledgerperiodstatus",
    metadata,
    *_system_columns(),
    _company(),
    Column("fiscalyear", String(10), nullable=False),
    Column("periodname", String(20), nullable=False),
    Column("status", String(20), nullable=False, default="Open"),  # Open, OnHold, PermanentlyClosed
    UniqueConstraint("dataareaid", "fiscalyear", "periodname"),
)

ledgeryearclose = Table(
    "ledgeryearclose",
    metadata,
    *_system_columns(),
    _company(),
    Column("fiscalyear", String(10), nullable=False),
    Column("status", String(20), nullable=False, default="NotClosed"),  # NotClosed, Closed
    Column("closeddatetime", UtcDateTime),
    Column("voucher", String(20)),
    UniqueConstraint("dataareaid", "fiscalyear"),
)

# --- customers and products ----------------------------------------------------------------------------------------

custtable = Table(
    "custtable",
    metadata,
    *_system_columns(),
    _company(),
    Column("accountnum", String(20), nullable=False),
    Column("partynumber", String(20), nullable=False),
    Column("partytype", String(20), nullable=False, default="Organization"),  # Organization, Person
    Column("name", String(100), nullable=False),
    Column("firstname", String(25)),
    Column("middlename", String(25)),
    Column("lastname", String(25)),
    Column("custgroup", String(10), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("creditmax", Money, nullable=False, default=0),
    Column("mandatorycreditlimit", Boolean, nullable=False, default=False),
    Column("blocked", String(12), nullable=False, default="No"),  # CustVendorBlocked
    Column("paymtermid", String(20)),
    Column("invoiceaccount", String(20)),
    Column("languageid", String(7), nullable=False, default="en-us"),
    Column("email", String(80)),
    Column("phone", String(20)),
    Column("url", String(255)),
    Column("salesmemo", String(1000)),
    *_address("delivery"),
    *_address("invoice"),
    UniqueConstraint("dataareaid", "accountnum"),
    Index("ix_custtable_name", "dataareaid", "name"),
    # Customer lists are filtered by group far more than by anything else; carrying the account (list order) and
    # the name lets "group X whose name starts with Y, by account" run on the index alone, without a table read
    # per skipped customer.
    Index("ix_custtable_group", "dataareaid", "custgroup", "accountnum", "name"),
)

inventtable = Table(
    "inventtable",
    metadata,
    *_system_columns(),
    _company(),
    Column("itemid", String(20), nullable=False),
    Column("productnumber", String(20), nullable=False),
    Column("name", String(60), nullable=False),
    Column("description", String(1000)),
    Column("producttype", String(10), nullable=False, default="Item"),  # Item, Service
    Column("itemgroup", String(10)),
    Column("salesprice", Money, nullable=False, default=0),
    Column("salesunit", String(10), nullable=False, default="ea"),
    Column("unitcost", Money, nullable=False, default=0),
    UniqueConstraint("dataareaid", "itemid"),
)

# --- sales ---------------------------------------------------------------------------------------------------------

salestable = Table(
    "salestable",
    metadata,
    *_system_columns(),
    _company(),
    Column("salesid", String(20), nullable=False),
    Column("custaccount", String(20), nullable=False),
    Column("invoiceaccount", String(20), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(12), nullable=False, default="Open"),  # Open, Confirmed, Delivered, Invoiced, Cancelled
    Column("orderdate", Date, nullable=False),
    Column("requesteddate", Date),
    Column("customerref", String(60)),
    Column("paymtermid", String(20)),
    Column("intercompany", Boolean, nullable=False, default=False),
    Column("totalamount", Money, nullable=False, default=0),
    Column("confirmeddatetime", UtcDateTime),
    Column("invoiceid", String(20)),
    *_address("delivery"),
    UniqueConstraint("dataareaid", "salesid"),
    Index("ix_salestable_customer", "dataareaid", "custaccount", "status"),
    Index("ix_salestable_orderdate", "dataareaid", "orderdate"),
)

salesline = Table(
    "salesline",
    metadata,
    *_system_columns(),
    _company(),
    Column("salesid", String(20), nullable=False),
    Column("linenum", Integer, nullable=False),
    Column("inventtransid", String(20), nullable=False),
    Column("itemid", String(20), nullable=False),
    Column("name", String(60)),
    Column("qty", Money, nullable=False),
    Column("salesunit", String(10), nullable=False),
    Column("salesprice", Money, nullable=False),
    Column("discamount", Money, nullable=False, default=0),
    Column("lineamount", Money, nullable=False),
    Column("currency", String(3), nullable=False),
    UniqueConstraint("dataareaid", "inventtransid"),
    Index("ix_salesline_order", "dataareaid", "salesid", "linenum"),
)

custinvoicejour = Table(
    "custinvoicejour",
    metadata,
    *_system_columns(),
    _company(),
    Column("invoiceid", String(20), nullable=False),
    Column("salesid", String(20)),
    Column("orderaccount", String(20), nullable=False),
    Column("invoiceaccount", String(20), nullable=False),
    Column("invoicedate", Date, nullable=False),
    Column("duedate", Date, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("invoiceamount", Money, nullable=False),
    Column("ledgervoucher", String(20), nullable=False),
    UniqueConstraint("dataareaid", "invoiceid"),
    Index("ix_custinvoicejour_date", "dataareaid", "invoicedate"),
)

custinvoicetrans = Table(
    "custinvoicetrans",
    metadata,
    *_system_columns(),
    _company(),
    Column("invoiceid", String(20), nullable=False),
    Column("linenum", Integer, nullable=False),
    Column("itemid", String(20), nullable=False),
    Column("name", String(60)),
    Column("qty", Money, nullable=False),
    Column("salesprice", Money, nullable=False),
    Column("lineamount", Money, nullable=False),
    Column("inventtransid", String(20)),
    Index("ix_custinvoicetrans_invoice", "dataareaid", "invoiceid", "linenum"),
)

custtrans = Table(
    "custtrans",
    metadata,
    *_system_columns(),
    _company(),
    Column("accountnum", String(20), nullable=False),
    Column("voucher", String(20), nullable=False),
    Column("transdate", Date, nullable=False),
    Column("transtype", String(12), nullable=False),  # Invoice, Payment
    Column("invoice", String(20)),
    Column("paymentreference", String(60)),
    Column("text", String(60)),
    Column("amountcur", Money, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("settleamountcur", Money, nullable=False, default=0),
    Column("duedate", Date),
    Column("closed", Date),
    Index("ix_custtrans_account", "dataareaid", "accountnum", "transdate"),
)

# --- general ledger and inventory ----------------------------------------------------------------------------------

generaljournalentry = Table(
    "generaljournalentry",
    metadata,
    *_system_columns(),
    _company(),
    Column("journalnumber", String(20), nullable=False),
    Column("subledgervoucher", String(20), nullable=False),
    Column("accountingdate", Date, nullable=False),
    Column("fiscalyear", String(10), nullable=False),
    Column("fiscalperiod", String(20), nullable=False),
    Column("journalcategory", String(20), nullable=False),  # Sales, Payment, Inventory, YearEnd
    Column("postinglayer", String(10), nullable=False, default="Current"),
    Column("documentnumber", String(20)),
    Column("text", String(60)),
    UniqueConstraint("dataareaid", "subledgervoucher"),
    Index("ix_gje_date", "dataareaid", "accountingdate"),
)

generaljournalaccountentry = Table(
    "generaljournalaccountentry",
    metadata,
    *_system_columns(),
    _company(),
    Column("generaljournalentry", RecId, ForeignKey("generaljournalentry.recid"), nullable=False),
    Column("linenum", Integer, nullable=False),
    Column("mainaccountid", String(20), nullable=False),
    Column("postingtype", String(30), nullable=False),
    Column("transactioncurrencycode", String(3), nullable=False),
    Column("transactioncurrencyamount", Money, nullable=False),
    Column("accountingcurrencyamount", Money, nullable=False),
    Column("iscredit", Boolean, nullable=False),
    Column("quantity", Money),
    Column("text", String(60)),
    Index("ix_gjae_entry", "generaljournalentry", "linenum"),
    Index("ix_gjae_account", "dataareaid", "mainaccountid"),
)

inventtrans = Table(
    "inventtrans",
    metadata,
    *_system_columns(),
    _company(),
    Column("itemid", String(20), nullable=False),
    Column("inventtransid", String(20), nullable=False),
    Column("referencecategory", String(20), nullable=False),  # Sales, InventoryAdjustment
    Column("referenceid", String(20)),
    Column("qty", Money, nullable=False),
    Column("costamountphysical", Money, nullable=False, default=0),
    Column("costamountposted", Money, nullable=False, default=0),
    Column("statusissue", String(12), nullable=False, default="None"),  # None, OnOrder, Deducted, Sold
    Column("statusreceipt", String(12), nullable=False, default="None"),  # None, Received, Purchased
    Column("datephysical", Date),
    Column("datefinancial", Date),
    Column("invoiceid", String(20)),
    Column("voucher", String(20)),
    Index("ix_inventtrans_item", "dataareaid", "itemid", "datefinancial"),
    Index("ix_inventtrans_lot", "dataareaid", "inventtransid"),
)

# --- security: users, roles, entity privileges, role assignment per legal entity -----------------------------------
# Shaped after finance and operations' UserInfo, SecurityRole and SecurityUserRole (with its organization
# restriction folded into ``securityuserrole.dataareaid``). Privileges are on data entities (the only thing the
# ``/data`` API serves), not on menu items and tables. See ``isthmus.erp.security``.

userinfo = Table(
    "userinfo",
    metadata,
    *_system_columns(),
    Column("id", String(20), nullable=False, unique=True),
    Column("name", String(80), nullable=False),
    Column("networkalias", String(80)),
    # The identity principal's object id (the token's ``oid``, a GUID in lower case).
    Column("objectid", String(36), unique=True),
    # Default legal entity of the user's sessions.
    Column("company", String(8)),
    Column("enable", Boolean, nullable=False, default=True),
)

securityrole = Table(
    "securityrole",
    metadata,
    *_system_columns(),
    Column("aotname", String(60), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("description", String(1000)),
)

securityroleentityprivilege = Table(
    "securityroleentityprivilege",
    metadata,
    *_system_columns(),
    Column("securityrole", String(60), ForeignKey("securityrole.aotname"), nullable=False),
    # Public collection name of the data entity (``CustomersV3``), or ``*`` for every entity.
    Column("entityname", String(80), nullable=False),
    Column("readaccess", Boolean, nullable=False, default=False),
    Column("createaccess", Boolean, nullable=False, default=False),
    Column("updateaccess", Boolean, nullable=False, default=False),
    Column("deleteaccess", Boolean, nullable=False, default=False),
    # Bound actions the role may run: comma-separated names, ``*`` for all, empty for none.
    Column("actions", String(1000), nullable=False, default=""),
    # Public field names the update privilege is limited to (comma-separated); NULL means every field.
    Column("updatefields", String(2000)),
    UniqueConstraint("securityrole", "entityname"),
)

securityuserrole = Table(
    "securityuserrole",
    metadata,
    *_system_columns(),
    Column("userid", String(20), ForeignKey("userinfo.id"), nullable=False),
    Column("securityrole", String(60), ForeignKey("securityrole.aotname"), nullable=False),
    # The legal entity the assignment is limited to; NULL grants the role in every legal entity.
    Column("dataareaid", String(8)),
    Index("ix_securityuserrole_user", "userid", "securityrole", "dataareaid"),
)
