"""What the review queue shows and what a decision returns: plain values shared by the CLI, the
API and notebooks (see :mod:`marketops.quality.review` for the functions that produce them).

Example:
    >>> Evidence("email", "a@x.io", "a@x.io", "exact match", 512.0, 9.0).verdict
    'agree'
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from marketops.errors import MarketopsError

if TYPE_CHECKING:
    from marketops.state.models import MergeDecision


class InvalidDecision(MarketopsError):
    """A decision cannot be taken as asked (a record paired with itself, an over-long note...)."""


class DecisionConflict(MarketopsError):
    """The pair already has the opposite decision; revoke that one first."""


# -- values ----------------------------------------------------------------------------------------
def _finite(data: dict[str, Any]) -> dict[str, Any]:
    # JSON has no infinity or NaN, and a certain match's Bayes factor or weight can be infinite.
    return {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in data.items()}


@dataclass(frozen=True)
class Evidence:
    """How one compared column voted: the two values, the comparison level and its weight.

    ``match_weight`` is log2 of the Bayes factor: positive weights are evidence *for* the
    match, negative ones *against*, and the size says how strongly.

    Example:
        >>> Evidence("phone", "+3912", "+4415", "different", 0.125, -3.0).verdict
        'disagree'
    """

    column: str
    left: Any
    right: Any
    level: str | None
    bayes_factor: float | None
    match_weight: float | None

    @property
    def verdict(self) -> str:
        """``agree`` (for the match), ``disagree`` (against) or ``neutral`` (no evidence either way)."""
        weight = self.match_weight
        if weight is None or math.isnan(weight) or weight == 0:
            return "neutral"
        return "agree" if weight > 0 else "disagree"

    def to_json(self) -> dict[str, Any]:
        return _finite({**asdict(self), "verdict": self.verdict})


@dataclass(frozen=True)
class DecisionRecord:
    """A merge decision as callers see it (a snapshot, not a database row)."""

    id: int
    record_key_a: str
    record_key_b: str
    decision: str
    origin: str
    pair_id: str | None
    match_probability: float | None
    note: str | None
    decided_by: str
    decided_at: datetime

    @classmethod
    def of(cls, row: MergeDecision) -> DecisionRecord:
        return cls(row.id, row.record_key_a, row.record_key_b, row.decision, row.origin, row.pair_id,
                   row.match_probability, row.note, row.decided_by, row.decided_at)

    def describe(self) -> str:
        """What the decision says, in words (``never merge a:1 and b:2``)."""
        return f"{self.decision} merge {self.record_key_a} and {self.record_key_b}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["decided_at"] = self.decided_at.isoformat() if self.decided_at else None
        return data


@dataclass(frozen=True)
class ReviewItem:
    """One candidate pair: the two records side by side, the probability and the evidence;
    ``same_person`` says whether the run put them in one person (None if the resolver did not say)."""

    pair_id: str
    run_id: str | None
    match_probability: float | None
    match_weight: float | None
    status: str
    left: dict[str, Any]
    right: dict[str, Any]
    evidence: tuple[Evidence, ...]
    same_person: bool | None = None
    decision: DecisionRecord | None = None

    @property
    def record_keys(self) -> tuple[str, str]:
        return self.left["record_key"], self.right["record_key"]

    def to_json(self) -> dict[str, Any]:
        return {**_finite({k: getattr(self, k) for k in ("pair_id", "run_id", "match_probability", "match_weight",
                                                          "status", "same_person", "left", "right")}),
                "evidence": [e.to_json() for e in self.evidence],
                "decision": self.decision.to_json() if self.decision else None}


@dataclass(frozen=True)
class ReviewPage:
    """One page of the queue, with the total and the run the pairs come from.

    ``resolved`` is False while identity resolution has never run (no pairs to review yet).
    """

    items: list[ReviewItem]
    total: int
    limit: int | None
    offset: int
    run_id: str | None
    resolved: bool

    def to_json(self) -> dict[str, Any]:
        return {"items": [i.to_json() for i in self.items], "total": self.total, "limit": self.limit,
                "offset": self.offset, "run_id": self.run_id}


@dataclass(frozen=True)
class DecisionOutcome:
    """What a review action changed: decisions created, already in place, or removed.

    Example:
        >>> DecisionOutcome("split", message="x is not merged with any other record.").effective
        'next_run'
    """

    action: str
    created: tuple[DecisionRecord, ...] = ()
    unchanged: tuple[DecisionRecord, ...] = ()
    removed: tuple[DecisionRecord, ...] = ()
    message: str = ""
    #: Decisions change people at the next pipeline run, never the published tables at once.
    effective: str = "next_run"

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "message": self.message, "effective": self.effective,
                **{k: [d.to_json() for d in getattr(self, k)] for k in ("created", "unchanged", "removed")}}
