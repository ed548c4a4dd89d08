"""The ``library:`` section of marketops.yaml.

Example:
    >>> LibraryConfig().model_dump() is not None
    True
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class LibraryConfig(BaseModel):
    """Where playbooks and templates are kept."""

    model_config = ConfigDict(extra="forbid")
