"""The Dataverse-compatible data platform: metadata-driven tables, standard tables, records with a plug-in pipeline,
and the Web API at ``/api/data/v9.2/`` that Microsoft's own clients use unchanged.

Layout: ``metadata`` describes tables, columns, choices, relationships and keys (and keeps them in the platform's
own database, so custom tables made at runtime persist); ``records`` reads and writes rows through the plug-in
``pipeline``; ``fetchxml`` and ``aggregate`` are the two other query languages.
"""
