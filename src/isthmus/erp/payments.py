"""Customer payments: a payment lowers the customer's balance, posts bank against receivables, and settles the
customer's open invoices oldest first."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from isthmus.errors import BusinessRuleError
from isthmus.erp import customers, ledger, numbering, validation
from isthmus.erp.ledger import LedgerLine
from isthmus.erp.schema import custtrans
from isthmus.erp.setup import ACCOUNTS
from isthmus.storage import UnitOfWork

CENT = Decimal("0.01")


def post_payment(
    uow: UnitOfWork,
    company: str,
    account: str,
    amount: Any,
    *,
    date: dt.date | None = None,
    reference: str | None = None,
) -> dict[str, Any]:
    """Post a payment of ``amount`` (in the customer's currency) received from ``account``; returns the customer
    transaction."""
    conn = uow.connection
    customer = customers.get(conn, company, account)
    value = validation.amount(amount, "The payment amount", target="Amount", positive=True).quantize(CENT)
    if customer["blocked"] in ("Payment", "All"):
        raise BusinessRuleError(
            f"Customer {account} is on hold ({customer['blocked']}) and cannot receive payments.",
            target="OnHoldStatus",
        )
    date = date or dt.date.today()
    ledger.require_open_period(conn, company, date)
    voucher = numbering.next_number(conn, company, numbering.PAYMENT_VOUCHER)
    payment = uow.insert(
        custtrans,
        {
            "dataareaid": company,
            "accountnum": account,
            "voucher": voucher,
            "transdate": date,
            "transtype": "Payment",
            "paymentreference": reference,
            "text": f"Payment {reference}" if reference else "Customer payment",
            "amountcur": -value,
            "currency": customer["currency"],
            "settleamountcur": Decimal(0),
        },
    )
    ledger.post_voucher(
        uow,
        company,
        date=date,
        voucher=voucher,
        category="Payment",
        currency=customer["currency"],
        lines=[
            LedgerLine(ACCOUNTS.bank, value, "Bank"),
            LedgerLine(ACCOUNTS.receivables, -value, "CustBalance", f"Customer {account}"),
        ],
        document_number=reference,
        text=f"Customer payment {account}",
    )
    _settle(uow, company, account, payment, value, date)
    return customers.get(conn, company, account) | {"payment": payment}


def _settle(uow: UnitOfWork, company: str, account: str, payment: dict, value: Decimal, date: dt.date) -> None:
    """Settle open invoices oldest first with the payment's value; what is left stays open on the payment."""
    remaining = value
    open_invoices = uow.connection.execute(
        select(custtrans)
        .where(
            custtrans.c.dataareaid == company,
            custtrans.c.accountnum == account,
            custtrans.c.transtype == "Invoice",
            custtrans.c.closed.is_(None),
        )
        .order_by(custtrans.c.duedate, custtrans.c.recid)
    ).mappings().all()
    for invoice in open_invoices:
        if remaining <= 0:
            break
        open_amount = Decimal(invoice["amountcur"]) - Decimal(invoice["settleamountcur"])
        applied = min(open_amount, remaining)
        settled = Decimal(invoice["settleamountcur"]) + applied
        uow.update(
            custtrans,
            invoice["recid"],
            {"settleamountcur": settled, "closed": date if settled >= Decimal(invoice["amountcur"]) else None},
            before=invoice,
        )
        remaining -= applied
    used = value - remaining
    if used:
        uow.update(
            custtrans,
            payment["recid"],
            {"settleamountcur": -used, "closed": date if remaining == 0 else None},
            before=payment,
        )
