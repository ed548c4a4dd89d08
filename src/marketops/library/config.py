"""The ``library:`` section of marketops.yaml: where playbooks and workspace templates are kept,
how early an asset's expiring usage rights are flagged, and which asset types the register knows.

Example:
    >>> cfg = LibraryConfig.model_validate({"asset_expiry_warning_days": 14, "asset_types": ["Image", "podcast"]})
    >>> cfg.playbooks_dir, cfg.asset_expiry_warning_days, cfg.asset_types
    ('playbooks', 14, ['image', 'podcast'])
    >>> LibraryConfig.model_validate({"playbooks_dir": "../elsewhere"})
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for LibraryConfig
    playbooks_dir
      Value error, '../elsewhere' must be a folder inside the workspace (a relative path without '..') ...
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: The kinds of digital asset the register knows unless ``library.asset_types`` says otherwise.
DEFAULT_ASSET_TYPES = ("image", "video", "document", "logo", "presentation", "audio", "font", "template", "other")
_TYPE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class LibraryConfig(BaseModel):
    """Where playbooks and templates are kept, and the asset register's rules."""

    model_config = ConfigDict(extra="forbid")

    playbooks_dir: str = Field(default="playbooks", description="Folder (inside the workspace) of the markdown "
                               "playbooks and process documents; versioned like code. Pages edited in the web app "
                               "are saved here too.")
    templates_dir: str = Field(default="templates", description="Folder (inside the workspace) of your own "
                               "initiative templates (YAML); a file named like a built-in template replaces it.")
    asset_expiry_warning_days: int = Field(default=30, ge=0, le=3650, description="An asset whose usage rights "
                                           "end within this many days is 'expiring' (warned about); after the "
                                           "end date it is 'expired'.")
    asset_types: list[str] = Field(default_factory=lambda: list(DEFAULT_ASSET_TYPES),
                                   description="The types an asset may have: " + ", ".join(DEFAULT_ASSET_TYPES)
                                   + " (default).")

    @field_validator("playbooks_dir", "templates_dir")
    @classmethod
    def _inside(cls, v: str) -> str:
        path = PurePosixPath(str(v).strip().replace("\\", "/"))
        if not str(path) or path.is_absolute() or ".." in path.parts or str(path).startswith("~"):
            raise ValueError(f"'{v}' must be a folder inside the workspace (a relative path without '..') "
                             "such as 'playbooks' or 'docs/playbooks'")
        return str(path)

    @field_validator("asset_types")
    @classmethod
    def _types(cls, v: list[str]) -> list[str]:
        out: list[str] = []
        for raw in v:
            t = str(raw).strip().lower()
            if not _TYPE.match(t):
                raise ValueError(f"asset type '{raw}' must be a short lower-case word such as 'image' or 'social-card'")
            if t not in out:
                out.append(t)
        if not out:
            raise ValueError("list at least one asset type, e.g. [image, video, document]")
        return out
