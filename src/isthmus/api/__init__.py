"""HTTP: the ASGI application that serves the ERP's ``/data`` API (and, as they land, the Dataverse Web API and the
admin API), and the one place where errors become HTTP responses."""
