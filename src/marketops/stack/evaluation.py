"""The evaluation form for a tool under consideration: four questions, each answered yes, partly or
no, and a recommendation with its reasons.

1. Does it serve our goals?  2. Does it improve the buyer's journey?  3. Do we have the budget?
4. Do we have the time to use it well?

The rules, in order: a tool that serves no goal or does not improve the journey is not bought
(``do_not_buy``); one that would, but lacks budget or time, waits (``defer``); all four yes is
``buy``; anything partly is a time-boxed ``pilot``. A tool whose category already has tools in the
registry is at most a pilot: it has to prove it beats what is paid for already.

Example:
    >>> v = recommend({"serves_goals": "yes", "improves_journey": "yes", "has_budget": "yes", "has_time": "partly"})
    >>> v.recommendation, v.reasons[-1]
    ('pilot', 'Some answers are "partly": run a time-boxed pilot with a success measure before buying.')
    >>> recommend({"serves_goals": "no", "improves_journey": "yes", "has_budget": "yes",
    ...            "has_time": "yes"}).recommendation
    'do_not_buy'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketops.errors import ValidationFailed, did_you_mean
from marketops.stack.audit import SEVERAL_EXPECTED
from marketops.state.audit import record
from marketops.state.stack import ANSWERS, StackEvaluation, StackTool

#: The four questions, by field name.
QUESTIONS = {
    "serves_goals": "Does it serve our goals?",
    "improves_journey": "Does it improve the buyer's journey?",
    "has_budget": "Do we have the budget?",
    "has_time": "Do we have the time to use it well?",
}
LABELS = {"buy": "Buy", "pilot": "Pilot first", "defer": "Not now", "do_not_buy": "Do not buy"}


@dataclass(frozen=True)
class Verdict:
    recommendation: str
    reasons: list[str] = field(default_factory=list)
    overlaps: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return LABELS[self.recommendation]

    def to_json(self) -> dict[str, Any]:
        return {"recommendation": self.recommendation, "label": self.label, "reasons": list(self.reasons),
                "overlaps": list(self.overlaps)}


def check_answers(answers: Mapping[str, Any]) -> dict[str, str]:
    """The four answers, each yes/partly/no; ValidationFailed names a missing or unknown one."""
    out = {}
    for key, question in QUESTIONS.items():
        raw = answers.get(key)
        word = str(raw or "").strip().lower()
        word = {"y": "yes", "true": "yes", "n": "no", "false": "no", "maybe": "partly"}.get(word, word)
        if word not in ANSWERS:
            shown = f"'{raw}'" if raw not in (None, "") else "no answer"
            raise ValidationFailed(f"{key} ({question}): {shown}{did_you_mean(word, ANSWERS)}; answer "
                                   f"{', '.join(ANSWERS)}")
        out[key] = word
    extra = [k for k in answers if k not in QUESTIONS]
    if extra:
        raise ValidationFailed(f"unknown question '{extra[0]}'{did_you_mean(extra[0], QUESTIONS)}; the questions "
                               f"are {', '.join(QUESTIONS)}")
    return out


def recommend(answers: Mapping[str, Any], *, overlaps: list[str] | None = None,
              category: str = "") -> Verdict:
    """The recommendation for four answers (see the module's description for the rules)."""
    a = check_answers(answers)
    reasons: list[str] = []
    if a["serves_goals"] == "no":
        reasons.append("It serves none of our goals: a tool without a goal becomes shelfware.")
    if a["improves_journey"] == "no":
        reasons.append("It does not improve the buyer's journey: buyers would not notice it.")
    if reasons:
        return Verdict("do_not_buy", reasons, list(overlaps or []))
    if a["has_budget"] == "no":
        reasons.append("There is no budget for it: plan it into next period's budget.")
    if a["has_time"] == "no":
        reasons.append("Nobody has the time to use it well: an unused tool costs the same as a used one.")
    if reasons:
        return Verdict("defer", reasons, list(overlaps or []))
    recommendation = "buy" if all(v == "yes" for v in a.values()) else "pilot"
    if recommendation == "buy":
        reasons.append("It serves our goals and the buyer's journey, and we have the budget and the time.")
    else:
        partly = [QUESTIONS[k] for k, v in a.items() if v == "partly"]
        reasons.append("Partly: " + " ".join(partly))
        reasons.append('Some answers are "partly": run a time-boxed pilot with a success measure before buying.')
    if overlaps:
        reasons.append(f"{category or 'Its category'} already has {', '.join(overlaps)}: prove it does the job "
                       f"better, and plan which one to retire.")
        recommendation = "pilot"
    return Verdict(recommendation, reasons, list(overlaps or []))


def overlapping_tools(session: Session, category: str, name: str = "") -> list[str]:
    """Registry tools already in ``category`` (other than one called ``name``); none where several tools
    are the norm (advertising: each platform is a channel)."""
    if not category.strip() or category.strip().lower() in SEVERAL_EXPECTED:
        return []
    rows = session.scalars(select(StackTool.name).where(func.lower(StackTool.category) == category.strip().lower())
                           .order_by(StackTool.name))
    return [n for n in rows if n.lower() != name.strip().lower()]


def evaluate(session: Session, tool: str, answers: Mapping[str, Any], *, vendor: str = "", category: str = "",
             notes: Mapping[str, str] | None = None, save: bool = False, actor: str = "",
             ip: str | None = None) -> tuple[Verdict, StackEvaluation | None]:
    """Judge a tool; with ``save`` keep the evaluation (audited ``stack.evaluate``)."""
    name = (tool or "").strip()
    if not name:
        raise ValidationFailed("tool: name the tool under consideration")
    verdict = recommend(answers, overlaps=overlapping_tools(session, category, name), category=category.strip())
    if not save:
        return verdict, None
    a = check_answers(answers)
    row = StackEvaluation(tool=name[:200], vendor=vendor.strip()[:200], category=category.strip()[:100], **a,
                          notes={k: v.strip() for k, v in (notes or {}).items() if k in QUESTIONS and v and v.strip()},
                          recommendation=verdict.recommendation, reasons=verdict.reasons, created_by=actor)
    session.add(row)
    session.flush()
    record(session, actor, "stack.evaluate", f"stack_evaluation:{row.id}",
           {"tool": row.tool, "recommendation": row.recommendation}, ip)
    return verdict, row


def list_evaluations(session: Session) -> list[StackEvaluation]:
    """Saved evaluations, newest first."""
    return list(session.scalars(select(StackEvaluation).order_by(StackEvaluation.created_at.desc(),
                                                                 StackEvaluation.id.desc())))


def evaluation_json(e: StackEvaluation) -> dict[str, Any]:
    return {"id": e.id, "tool": e.tool, "vendor": e.vendor, "category": e.category,
            **{k: getattr(e, k) for k in QUESTIONS}, "notes": dict(e.notes or {}),
            "recommendation": e.recommendation, "label": LABELS[e.recommendation], "reasons": list(e.reasons or []),
            "created_by": e.created_by, "created_at": e.created_at}
