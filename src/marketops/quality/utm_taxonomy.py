"""The ``utm:`` section of marketops.yaml: the UTM taxonomy links must follow.

Example:
    >>> UtmTaxonomy().model_dump() is not None
    True
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class UtmTaxonomy(BaseModel):
    """Allowed sources and mediums, the campaign naming pattern, required parameters, case."""

    model_config = ConfigDict(extra="forbid")
