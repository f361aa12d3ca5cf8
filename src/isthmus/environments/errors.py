"""Errors of the control plane."""

from __future__ import annotations

from isthmus.errors import ConflictError


class NotLinkedError(ConflictError):
    """A feature that needs the Power Platform integration was asked for while the environment is not linked."""

    code = "0x80048d0b"

    def __init__(self, environment: str, feature: str) -> None:
        super().__init__(
            f"Finance and operations environment {environment} is not linked to a Power Platform environment, so "
            f"{feature.replace('_', ' ')} is not available.",
            next_step=f"Link it first: isthmus env link {environment} (or POST /admin/fo-environments/{environment}/link).",
            target=feature,
        )
