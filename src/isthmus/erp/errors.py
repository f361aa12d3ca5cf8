"""Errors the ERP's business logic raises beyond the generic families in ``isthmus.errors``."""

from __future__ import annotations

from decimal import Decimal

from isthmus.errors import BusinessRuleError


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


class CreditLimitExceededError(BusinessRuleError):
    """Confirming an order would take the customer past a mandatory credit limit."""

    code = "CreditLimitExceeded"

    def __init__(
        self,
        *,
        company: str,
        account: str,
        sales_id: str,
        currency: str,
        balance: Decimal,
        open_orders: Decimal,
        order_amount: Decimal,
        credit_limit: Decimal,
    ) -> None:
        total = balance + open_orders + order_amount
        super().__init__(
            f"Credit limit check failed for customer {account} in company {company}: balance {_money(balance)} "
            f"+ confirmed open orders {_money(open_orders)} + sales order {sales_id} {_money(order_amount)} "
            f"= {_money(total)} {currency}, which exceeds the credit limit of {_money(credit_limit)} {currency} "
            f"by {_money(total - credit_limit)}.",
            next_step="Raise the credit limit, post a payment, or reduce the order before confirming it.",
            target="CreditLimit",
            details={
                "CustomerAccount": account,
                "Balance": float(balance),
                "ConfirmedOpenOrders": float(open_orders),
                "OrderAmount": float(order_amount),
                "Total": float(total),
                "CreditLimit": float(credit_limit),
                "Currency": currency,
            },
        )


class PeriodClosedError(BusinessRuleError):
    """A posting date falls in a fiscal period that is not open for the company."""

    code = "FiscalPeriodNotOpen"
