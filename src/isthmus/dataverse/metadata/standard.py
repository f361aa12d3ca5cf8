"""The standard tables every environment starts with, and the standard columns every table carries.

Columns follow Microsoft's logical names; the ``msdyn_*`` customer columns are the ones the out-of-box dual-write
maps use (``../shared/reference/dual-write.md``). Choice values follow Dataverse where documented (statecode 0 =
Active) and use the publisher prefix range 192350000+ for the ``msdyn_`` choices, as Microsoft's do.
"""

from __future__ import annotations

from dataclasses import replace

from isthmus.dataverse.metadata.model import AlternateKey, Column, Option, OptionSet, Table

ACTIVE_INACTIVE = (Option(0, "Active"), Option(1, "Inactive"))
ACTIVE_INACTIVE_REASONS = (Option(1, "Active", 0), Option(2, "Inactive", 1))


def _schema(logical: str) -> str:
    return "".join(part.capitalize() for part in logical.split("_"))


def standard_columns(
    table: str,
    primary_id: str,
    states: tuple[Option, ...] = ACTIVE_INACTIVE,
    reasons: tuple[Option, ...] = ACTIVE_INACTIVE_REASONS,
) -> tuple[Column, ...]:
    """Primary id, who/when audit columns, owner and owning business unit, state and status, row version."""
    system = {"valid_for_create": False, "valid_for_update": False}
    return (
        Column(primary_id, "Uniqueidentifier", schema_name=_schema(primary_id), is_primary_id=True, valid_for_update=False),
        Column("createdon", "DateTime", schema_name="CreatedOn", **system),
        Column("modifiedon", "DateTime", schema_name="ModifiedOn", **system),
        Column("createdby", "Lookup", schema_name="CreatedBy", targets=("systemuser",), **system),
        Column("modifiedby", "Lookup", schema_name="ModifiedBy", targets=("systemuser",), **system),
        Column("ownerid", "Owner", schema_name="OwnerId", targets=("systemuser", "team")),
        Column("owningbusinessunit", "Lookup", schema_name="OwningBusinessUnit", targets=("businessunit",), **system),
        Column("statecode", "State", schema_name="StateCode", option_set=OptionSet(f"{table}_statecode", states)),
        Column("statuscode", "Status", schema_name="StatusCode", option_set=OptionSet(f"{table}_statuscode", reasons)),
        Column("versionnumber", "BigInt", schema_name="VersionNumber", **system),
    )


def text(name: str, length: int = 100, **kw: object) -> Column:
    return Column(name, "String", max_length=length, **kw)  # type: ignore[arg-type]


def money(name: str, **kw: object) -> Column:
    return Column(name, "Money", precision=2, min_value=-922337203685477.0, max_value=922337203685477.0, **kw)  # type: ignore[arg-type]


def lookup(name: str, *targets: str, **kw: object) -> Column:
    kind = "Customer" if set(targets) == {"account", "contact"} else "Lookup"
    return Column(name, kind, targets=targets, **kw)  # type: ignore[arg-type]


def choice(name: str, options: tuple[tuple[int, str], ...], **kw: object) -> Column:
    return Column(name, "Picklist", option_set=OptionSet(name, tuple(Option(v, label) for v, label in options)), **kw)  # type: ignore[arg-type]


def address(prefix: str) -> tuple[Column, ...]:
    return (
        text(f"{prefix}_line1", 250), text(f"{prefix}_line2", 250), text(f"{prefix}_line3", 250),
        text(f"{prefix}_city", 80), text(f"{prefix}_stateorprovince", 50), text(f"{prefix}_postalcode", 20),
        text(f"{prefix}_county", 50), text(f"{prefix}_country", 80),
        Column(f"{prefix}_latitude", "Double", min_value=-90, max_value=90),
        Column(f"{prefix}_longitude", "Double", min_value=-180, max_value=180),
        choice(f"{prefix}_addresstypecode", ((1, "Bill To"), (2, "Ship To"), (3, "Primary"), (4, "Other"))),
    )


def table(
    logical: str,
    entity_set: str,
    primary_name: str | None,
    *columns: Column,
    primary_id: str | None = None,
    keys: tuple[AlternateKey, ...] = (),
    ownership: str = "UserOwned",
    object_type_code: int = 0,
    states: tuple[Option, ...] = ACTIVE_INACTIVE,
    reasons: tuple[Option, ...] = ACTIVE_INACTIVE_REASONS,
    display: str | None = None,
) -> Table:
    primary_id = primary_id or f"{logical}id"
    own = list(columns)
    if primary_name and not any(c.logical_name == primary_name for c in own):
        own.insert(0, text(primary_name, 100, required="ApplicationRequired"))
    named = [replace(c, is_primary_name=True) if c.logical_name == primary_name else c for c in own]
    return Table(
        logical_name=logical,
        entity_set_name=entity_set,
        primary_id=primary_id,
        primary_name=primary_name,
        columns=(*standard_columns(logical, primary_id, states, reasons), *named),
        schema_name=_schema(logical),
        display_name=display or _schema(logical),
        ownership=ownership,  # type: ignore[arg-type]
        keys=keys,
        object_type_code=object_type_code,
    )


ON_HOLD = ((192350000, "No"), (192350001, "Invoice"), (192350002, "All"), (192350003, "Payment"),
           (192350004, "Requisition"), (192350005, "Never"))
PROCESSING_STATUS = ((192350000, "Open"), (192350001, "Confirmed"), (192350002, "Delivered"), (192350003, "Invoiced"),
                     (192350004, "Cancelled"))


def standard_tables() -> tuple[Table, ...]:
    company = lookup("msdyn_company", "cdm_company")
    contact_info = (
        text("emailaddress1", 100, format="Email"), text("telephone1", 50, format="Phone"), text("fax", 50),
        text("websiteurl", 200, format="Url"), text("primarytwitterid", 128), text("msdyn_primaryfacebookid", 100),
        text("msdyn_primarylinkedinid", 100), text("msdyn_telephone1extension", 10), text("msdyn_faxextension", 10),
    )
    customer_columns = (
        money("creditlimit"), Column("msdyn_creditlimitismandatory", "Boolean"), text("msdyn_creditrating", 10),
        choice("msdyn_onholdstatus", ON_HOLD), lookup("transactioncurrencyid", "transactioncurrency"),
        lookup("msdyn_customergroupid", "msdyn_customergroup"), lookup("msdyn_paymentterm", "msdyn_paymentterm"),
        lookup("msdyn_billingaccount", "account"), company, text("msdyn_partynumber", 40),
        text("msdyn_partycountry", 10), text("msdyn_partystateprovince", 10), text("msdyn_identificationnumber", 50),
        text("msdyn_taxexemptnumber", 50), Column("msdyn_onetimecustomer", "Boolean"),
        Column("msdyn_paymenttermsbasedays", "Integer", min_value=0, max_value=999),
        Column("description", "Memo", max_length=2000),
    )
    return (
        table("businessunit", "businessunits", "name", lookup("parentbusinessunitid", "businessunit"),
              text("divisionname", 100), ownership="OrganizationOwned", object_type_code=10),
        table("organization", "organizations", "name", text("languagecode", 10), ownership="OrganizationOwned",
              object_type_code=1019),
        table("systemuser", "systemusers", "fullname", text("firstname", 64), text("lastname", 64),
              text("domainname", 1024), text("internalemailaddress", 100, format="Email"),
              lookup("businessunitid", "businessunit"), Column("azureactivedirectoryobjectid", "Uniqueidentifier"),
              Column("applicationid", "Uniqueidentifier"), Column("isdisabled", "Boolean"),
              choice("accessmode", ((0, "Read-Write"), (1, "Administrative"), (4, "Non-interactive"))),
              ownership="OrganizationOwned", object_type_code=8),
        table("team", "teams", "name", lookup("businessunitid", "businessunit"),
              choice("teamtype", ((0, "Owner"), (1, "Access"), (2, "Microsoft Entra ID Security Group"))),
              Column("description", "Memo", max_length=2000), ownership="OrganizationOwned", object_type_code=9),
        table("role", "roles", "name", lookup("businessunitid", "businessunit"), ownership="OrganizationOwned",
              object_type_code=1036),
        table("transactioncurrency", "transactioncurrencies", "currencyname", text("isocurrencycode", 5),
              text("currencysymbol", 10), Column("exchangerate", "Decimal", precision=10),
              Column("currencyprecision", "Integer", min_value=0, max_value=4),
              keys=(AlternateKey("isocurrencycode_key", ("isocurrencycode",)),), ownership="OrganizationOwned",
              object_type_code=9105),
        table("cdm_company", "cdm_companies", "cdm_name", text("cdm_companycode", 8), lookup("msdyn_owningbusinessunit", "businessunit"),
              keys=(AlternateKey("cdm_companycode_key", ("cdm_companycode",)),), ownership="OrganizationOwned"),
        table("msdyn_customergroup", "msdyn_customergroups", "msdyn_groupid", text("msdyn_description", 60), company,
              keys=(AlternateKey("msdyn_customergroup_key", ("msdyn_groupid", "msdyn_company")),)),
        table("msdyn_paymentterm", "msdyn_paymentterms", "msdyn_name", text("msdyn_description", 60), company,
              keys=(AlternateKey("msdyn_paymentterm_key", ("msdyn_name", "msdyn_company")),)),
        table("uom", "uoms", "name", text("msdyn_symbol", 10), Column("quantity", "Decimal", precision=5),
              keys=(AlternateKey("msdyn_symbol_key", ("msdyn_symbol",)),), ownership="OrganizationOwned",
              object_type_code=1055),
        table("account", "accounts", "name", text("accountnumber", 20), *address("address1"), *address("address2"),
              *contact_info, *customer_columns, Column("numberofemployees", "Integer", min_value=0, max_value=1000000000),
              money("revenue"), choice("customertypecode", ((1, "Competitor"), (2, "Consultant"), (3, "Customer"),
                                                            (4, "Investor"), (5, "Partner"), (12, "Other"))),
              lookup("primarycontactid", "contact"), lookup("parentaccountid", "account"),
              keys=(AlternateKey("accountnumber_key", ("accountnumber",)),), object_type_code=1),
        table("contact", "contacts", "fullname", text("firstname", 50), text("middlename", 50), text("lastname", 50),
              text("jobtitle", 100), text("mobilephone", 50), lookup("parentcustomerid", "account", "contact"),
              choice("gendercode", ((1, "Male"), (2, "Female"))),
              choice("familystatuscode", ((1, "Single"), (2, "Married"), (3, "Divorced"), (4, "Widowed"))),
              Column("birthdate", "DateTime", format="DateOnly"), *address("address1"), *address("address2"),
              *address("address3"), *contact_info, *customer_columns, text("msdyn_contactpersonid", 20),
              Column("msdyn_sellable", "Boolean"),
              keys=(AlternateKey("msdyn_contactpersonid_key", ("msdyn_contactpersonid",)),), object_type_code=2),
        table("incident", "incidents", "title", text("ticketnumber", 100), lookup("customerid", "account", "contact"),
              lookup("primarycontactid", "contact"), Column("description", "Memo", max_length=2000),
              choice("prioritycode", ((1, "High"), (2, "Normal"), (3, "Low"))),
              choice("caseorigincode", ((1, "Phone"), (2, "Email"), (3, "Web"))),
              choice("casetypecode", ((1, "Question"), (2, "Problem"), (3, "Request"))),
              states=(Option(0, "Active"), Option(1, "Resolved"), Option(2, "Cancelled")),
              reasons=(Option(1, "In Progress", 0), Option(2, "On Hold", 0), Option(3, "Waiting for Details", 0),
                       Option(4, "Researching", 0), Option(5, "Problem Solved", 1), Option(1000, "Information Provided", 1),
                       Option(6, "Cancelled", 2)),
              display="Case", object_type_code=112),
        table("email", "emails", "subject", Column("description", "Memo", max_length=100000),
              lookup("regardingobjectid", "account", "contact", "incident"), text("sender", 250),
              text("torecipients", 500), Column("directioncode", "Boolean"),
              primary_id="activityid",
              states=(Option(0, "Open"), Option(1, "Completed"), Option(2, "Canceled")),
              reasons=(Option(1, "Draft", 0), Option(2, "Completed", 1), Option(3, "Sent", 1), Option(5, "Canceled", 2)),
              object_type_code=4202),
        table("product", "products", "name", text("productnumber", 100), text("msdyn_productnumber", 100),
              text("msdyn_itemnumber", 20), Column("description", "Memo", max_length=2000), money("price"),
              money("currentcost"), lookup("defaultuomid", "uom"), Column("quantitydecimal", "Integer", min_value=0, max_value=5),
              choice("producttypecode", ((1, "Sales Inventory"), (2, "Miscellaneous Charges"), (3, "Services"), (4, "Flat Fees"))),
              company, keys=(AlternateKey("productnumber_key", ("productnumber", "msdyn_company")),), ownership="OrganizationOwned",
              states=(Option(0, "Active"), Option(1, "Retired"), Option(2, "Draft"), Option(3, "Under Revision")),
              reasons=(Option(1, "Active", 0), Option(2, "Retired", 1), Option(0, "Draft", 2), Option(3, "Under Revision", 3)),
              object_type_code=1024),
        table("salesorder", "salesorders", "name", text("ordernumber", 100), text("msdyn_salesordernumber", 20),
              lookup("customerid", "account", "contact"), lookup("transactioncurrencyid", "transactioncurrency"),
              money("totalamount"), money("discountamount"), money("totaltax"), money("freightamount"),
              *[text(f"shipto_{p}", 250) for p in ("line1", "line2", "city", "stateorprovince", "postalcode", "country")],
              *[text(f"billto_{p}", 250) for p in ("line1", "line2", "city", "stateorprovince", "postalcode", "country")],
              choice("msdyn_processingstatus", PROCESSING_STATUS), Column("requestdeliveryby", "DateTime", format="DateOnly"),
              lookup("msdyn_invoicecustomer", "account"), company,
              keys=(AlternateKey("msdyn_salesordernumber_key", ("msdyn_salesordernumber", "msdyn_company")),),
              states=(Option(0, "Active"), Option(1, "Submitted"), Option(2, "Canceled"), Option(3, "Fulfilled"), Option(4, "Invoiced")),
              reasons=(Option(1, "New", 0), Option(2, "Pending", 0), Option(3, "In Progress", 1), Option(4, "No Money", 2),
                       Option(100001, "Complete", 3), Option(100002, "Partial", 3), Option(100003, "Invoiced", 4)),
              display="Order", object_type_code=1088),
        table("salesorderdetail", "salesorderdetails", "salesorderdetailname", lookup("salesorderid", "salesorder"),
              lookup("productid", "product"), lookup("uomid", "uom"), Column("quantity", "Decimal", precision=5),
              money("priceperunit"), money("baseamount"), money("extendedamount"), money("manualdiscountamount"),
              Column("lineitemnumber", "Integer", min_value=0, max_value=1000000), text("msdyn_inventorylotid", 30),
              text("productdescription", 500), company, display="Order Product", object_type_code=1089),
        table("sdkmessage", "sdkmessages", "name", ownership="OrganizationOwned", object_type_code=4606),
        table("sdkmessagefilter", "sdkmessagefilters", "name", lookup("sdkmessageid", "sdkmessage"),
              text("primaryobjecttypecode", 100), Column("iscustomprocessingstepallowed", "Boolean"),
              ownership="OrganizationOwned", object_type_code=4607),
        *security_tables(),
    )


def security_tables() -> tuple[Table, ...]:
    """The tables behind security roles (``dataverse/security``), under Dataverse's names: ``privilege`` (one per
    table and access right, ``prvReadAccount``…), ``privilegeobjecttypecodes`` (which table a privilege is about),
    and the intersect tables ``roleprivileges`` (role × privilege at a depth mask: 1 Basic/user, 2 Local/business
    unit, 4 Deep/parent-child business units, 8 Global/organization), ``systemuserroles``, ``teamroles`` and
    ``teammembership``."""
    return (
        table("privilege", "privileges", "name", Column("accessright", "Integer", min_value=0, max_value=2**31 - 1),
              Column("canbebasic", "Boolean"), Column("canbelocal", "Boolean"), Column("canbedeep", "Boolean"),
              Column("canbeglobal", "Boolean"), ownership="OrganizationOwned", object_type_code=1023),
        _intersect("privilegeobjecttypecodes", "privilegeobjecttypecodescollection", "privilegeobjecttypecodeid",
                   Column("privilegeid", "Uniqueidentifier", required="SystemRequired"),
                   text("objecttypecode", 128, required="SystemRequired"), object_type_code=31),
        _intersect("roleprivileges", "roleprivilegescollection", "roleprivilegeid",
                   Column("roleid", "Uniqueidentifier", required="SystemRequired"),
                   Column("privilegeid", "Uniqueidentifier", required="SystemRequired"),
                   Column("privilegedepthmask", "Integer", min_value=0, max_value=15, required="SystemRequired"),
                   object_type_code=12),
        _intersect("systemuserroles", "systemuserrolescollection", "systemuserroleid",
                   Column("systemuserid", "Uniqueidentifier", required="SystemRequired"),
                   Column("roleid", "Uniqueidentifier", required="SystemRequired"), object_type_code=44),
        _intersect("teamroles", "teamrolescollection", "teamroleid",
                   Column("teamid", "Uniqueidentifier", required="SystemRequired"),
                   Column("roleid", "Uniqueidentifier", required="SystemRequired"), object_type_code=40),
        _intersect("teammembership", "teammemberships", "teammembershipid",
                   Column("systemuserid", "Uniqueidentifier", required="SystemRequired"),
                   Column("teamid", "Uniqueidentifier", required="SystemRequired"), object_type_code=23),
    )


def _intersect(logical: str, entity_set: str, primary_id: str, *columns: Column, object_type_code: int) -> Table:
    """A Dataverse intersect-style table: its own id, the pair's ids, the row version; no owner, no state."""
    system = {"valid_for_create": False, "valid_for_update": False}
    return Table(
        logical_name=logical,
        entity_set_name=entity_set,
        primary_id=primary_id,
        primary_name=None,
        columns=(
            Column(primary_id, "Uniqueidentifier", schema_name=_schema(primary_id), is_primary_id=True,
                   valid_for_update=False),
            *(replace(c, valid_for_update=False) if c.type == "Uniqueidentifier" else c for c in columns),
            Column("createdon", "DateTime", schema_name="CreatedOn", **system),
            Column("versionnumber", "BigInt", schema_name="VersionNumber", **system),
        ),
        schema_name=_schema(logical),
        display_name=_schema(logical),
        ownership="None",
        object_type_code=object_type_code,
    )
