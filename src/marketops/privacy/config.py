"""The ``privacy:`` section of marketops.yaml.

Example:
    >>> PrivacyConfig().model_dump() is not None
    True
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class PrivacyConfig(BaseModel):
    """Consent purposes, suppression and retention rules."""

    model_config = ConfigDict(extra="forbid")
