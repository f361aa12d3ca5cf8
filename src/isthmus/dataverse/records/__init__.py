"""Records: reading and writing rows of Dataverse tables through the plug-in pipeline, and querying them with OData
options, ``$apply`` and FetchXML."""
