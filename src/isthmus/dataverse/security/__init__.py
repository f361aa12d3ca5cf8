"""Dataverse security: business units, teams and security roles with per-table privileges at a depth, and the
checks the record service makes with them.

* ``model`` — access rights, depths (``Depth``), privilege names and ids, ``SecurityProfile``;
* ``access`` — ``Access(caller)``: ``can``/``require`` a privilege on a table or a record, ``read_conditions`` for
  queries;
* ``resolver`` — navigation paths in ``$filter``/``$orderby``/``$apply`` that see only readable related records;
* ``roles`` — the privilege catalogue, the standard roles, ``ensure_role``;
* ``principals`` — ``caller_for`` (who a request runs as) and setting up business units, teams and users.

Modules are imported explicitly (``from isthmus.dataverse.security.access import Access``): the record service
depends on ``model`` and ``access``, and ``principals`` depends on the record service.
"""
