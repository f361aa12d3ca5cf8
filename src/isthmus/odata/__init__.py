"""The OData v4 layer both APIs share: the entity data model and its CSDL, query options parsed into an AST that
compiles to SQL and prints back to a query string, resource paths and keys, the JSON format, paging and ``$batch``.

Nothing here knows about the ERP or Dataverse; each app describes its entities with ``edm`` and supplies the
columns a query may touch through a ``FieldResolver``.
"""
