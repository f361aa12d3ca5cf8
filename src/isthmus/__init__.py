"""Isthmus: an ERP, a Dataverse-compatible data platform, and the Power Platform integration between them."""

__version__ = "0.1.0"
