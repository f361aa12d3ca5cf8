"""The ERP's public data entities (finance and operations' ``/data`` vocabulary) and the service that reads and
writes them."""
