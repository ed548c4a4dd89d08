"""Lifecycle stages as CRMs spell them, and the funnel's names for them.

Example:
    >>> spellings = stage_spellings(["MQL"])
    >>> "marketing qualified lead" in spellings and "mql" in spellings
    True
"""

from __future__ import annotations

from collections.abc import Iterable

from marketops.funnel import STAGE_ALIASES, stage_key


def stage_spellings(stages: Iterable[str]) -> list[str]:
    """Every known spelling (lower case) of the funnel stages ``stages`` name, for matching a
    CRM's stage column: "mql" also finds "Marketing Qualified Lead"."""
    canonical = {STAGE_ALIASES.get(stage_key(s), stage_key(s)) for s in stages}
    return sorted({k for k, v in STAGE_ALIASES.items() if v in canonical} | canonical)
