"""The credit check run when a sales order is confirmed.

Exposure = the invoice account's balance + the totals of its other confirmed orders that are not invoiced yet
(Confirmed or Delivered) + this order. When the account's credit limit is mandatory and not zero, an exposure above
the limit refuses the confirmation with every figure in the message. A limit of zero means no limit, as in finance
and operations.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, func, select

from isthmus.erp import customers
from isthmus.erp.errors import CreditLimitExceededError
from isthmus.erp.schema import salestable

OPEN_ORDER_STATUSES = ("Confirmed", "Delivered")


@dataclass(frozen=True)
class CreditExposure:
    balance: Decimal
    open_orders: Decimal
    order_amount: Decimal
    credit_limit: Decimal
    mandatory: bool

    @property
    def total(self) -> Decimal:
        return self.balance + self.open_orders + self.order_amount

    @property
    def exceeded(self) -> bool:
        return self.mandatory and self.credit_limit > 0 and self.total > self.credit_limit


def exposure(conn: Connection, company: str, order: dict) -> CreditExposure:
    account = customers.get(conn, company, order["invoiceaccount"])
    s = salestable.c
    open_orders = conn.execute(
        select(func.coalesce(func.sum(s.totalamount), 0)).where(
            s.dataareaid == company,
            s.invoiceaccount == order["invoiceaccount"],
            s.status.in_(OPEN_ORDER_STATUSES),
            s.salesid != order["salesid"],
        )
    ).scalar_one()
    return CreditExposure(
        balance=customers.balance(conn, company, order["invoiceaccount"]),
        open_orders=Decimal(str(open_orders)).quantize(Decimal("0.01")),
        order_amount=Decimal(order["totalamount"]).quantize(Decimal("0.01")),
        credit_limit=Decimal(account["creditmax"]).quantize(Decimal("0.01")),
        mandatory=bool(account["mandatorycreditlimit"]),
    )


def check(conn: Connection, company: str, order: dict) -> CreditExposure:
    """Refuse with ``CreditLimitExceededError`` when confirming ``order`` would pass a mandatory limit."""
    result = exposure(conn, company, order)
    if result.exceeded:
        raise CreditLimitExceededError(
            company=company,
            account=order["invoiceaccount"],
            sales_id=order["salesid"],
            currency=order["currency"],
            balance=result.balance,
            open_orders=result.open_orders,
            order_amount=result.order_amount,
            credit_limit=result.credit_limit,
        )
    return result
