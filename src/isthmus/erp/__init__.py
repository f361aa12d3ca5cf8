"""The ERP (the "finance and operations app"): legal entities, customers with addresses and credit limits, products,
sales orders with a credit check, invoice and payment posting, the general ledger, inventory and fiscal periods.

Layout: ``schema`` holds the tables; one module per business concept holds its rules (``customers``, ``sales``,
``invoicing``, ``payments``, ``ledger``...); ``entities`` exposes them as finance and operations data entities for the
``/data`` OData API. Every write takes a ``UnitOfWork``; reads take a SQLAlchemy ``Connection``.
"""
