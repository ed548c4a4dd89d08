"""What an initiative looks like from outside: how far its tasks are, how its goals stand, and the
same facts as JSON for the API and the CLI, or as flat rows for CSV and Excel.

Example:
    >>> s = TaskSummary(total=4, by_status={"todo": 1, "in_progress": 1, "blocked": 0, "done": 2}, overdue=1)
    >>> s.done, s.done_share
    (2, 0.5)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketops.plan.stories import StoryFormatError, parse_story
from marketops.state.planning import TASK_STATUSES, GoalProgress, Initiative, Task


@dataclass(frozen=True)
class TaskSummary:
    """An initiative's tasks in numbers: how many per status, how many overdue (due before today, not done)."""

    total: int = 0
    by_status: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TASK_STATUSES, 0))
    overdue: int = 0

    @property
    def done(self) -> int:
        return self.by_status.get("done", 0)

    @property
    def done_share(self) -> float | None:
        """Done tasks over all tasks (None with no tasks)."""
        return self.done / self.total if self.total else None

    def as_dict(self) -> dict[str, Any]:
        return {"total": self.total, "by_status": dict(self.by_status), "done": self.done,
                "done_share": self.done_share, "overdue": self.overdue}


def task_summaries(session: Session, initiative_ids: Iterable[int], today: date | None = None) -> dict[int, TaskSummary]:
    """The :class:`TaskSummary` of each initiative in ``initiative_ids`` (one query per figure, not per initiative).

    Example:
        >>> from marketops.state.db import init_db, session_scope
        >>> _ = init_db("sqlite://")
        >>> with session_scope("sqlite://") as s:
        ...     i = Initiative(title="Launch"); s.add(i); s.flush()
        ...     s.add_all([Task(initiative_id=i.id, title="Brief", status="done"),
        ...                Task(initiative_id=i.id, title="Ads", due_date=date(2026, 1, 1))]); s.flush()
        ...     task_summaries(s, [i.id], today=date(2026, 2, 1))[i.id].as_dict()
        {'total': 2, 'by_status': {'todo': 1, 'in_progress': 0, 'blocked': 0, 'done': 1}, 'done': 1, 'done_share': 0.5, 'overdue': 1}
    """
    ids = list(dict.fromkeys(initiative_ids))
    if not ids:
        return {}
    today = today or date.today()
    counts: dict[int, dict[str, int]] = {i: dict.fromkeys(TASK_STATUSES, 0) for i in ids}
    rows = session.execute(select(Task.initiative_id, Task.status, func.count())
                           .where(Task.initiative_id.in_(ids)).group_by(Task.initiative_id, Task.status))
    for initiative_id, status, n in rows:
        counts[initiative_id][status] = counts[initiative_id].get(status, 0) + n
    overdue = dict(session.execute(
        select(Task.initiative_id, func.count()).where(Task.initiative_id.in_(ids), Task.status != "done",
                                                       Task.due_date < today).group_by(Task.initiative_id)).all())
    return {i: TaskSummary(total=sum(counts[i].values()), by_status=counts[i], overdue=overdue.get(i, 0))
            for i in ids}


def goal_statuses(session: Session, goal_ids: Iterable[int]) -> dict[int, GoalProgress]:
    """The newest progress measurement of each goal that has one."""
    ids = list(dict.fromkeys(goal_ids))
    if not ids:
        return {}
    newest = (select(GoalProgress.id, func.row_number().over(
        partition_by=GoalProgress.goal_id, order_by=(GoalProgress.computed_at.desc(), GoalProgress.id.desc()))
        .label("n")).where(GoalProgress.goal_id.in_(ids)).subquery())
    rows = session.scalars(select(GoalProgress).join(newest, newest.c.id == GoalProgress.id).where(newest.c.n == 1))
    return {p.goal_id: p for p in rows}


def story_segments(initiative: Initiative) -> list[dict[str, str]]:
    """The stored story cut into its parts for highlighting: ``[{"part": "persona"|"want"|"outcome"|"",
    "text"}]`` (one plain segment when the story no longer parses)."""
    try:
        story = parse_story(initiative.story)
    except StoryFormatError:
        return [{"part": "", "text": initiative.story}]
    return [{"part": part, "text": text} for part, text in story.segments]


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def initiative_dict(initiative: Initiative, tasks: TaskSummary | None = None,
                    progress: dict[int, GoalProgress] | None = None, *, detail: bool = False) -> dict[str, Any]:
    """An initiative as the API and ``--json`` show it (``detail`` adds the story's segments)."""
    progress = progress or {}
    data = {
        "id": initiative.id, "title": initiative.title, "status": initiative.status, "owner": initiative.owner,
        "start_date": _iso(initiative.start_date), "end_date": _iso(initiative.end_date),
        "story": initiative.story, "persona": initiative.persona, "want": initiative.want,
        "outcome": initiative.outcome, "story_language": initiative.story_language,
        "stakeholders": list(initiative.stakeholders or []),
        "communication_plan": list(initiative.communication_plan or []),
        "goals": [{"id": g.id, "title": g.title, "metric": g.metric, "owner": g.owner,
                   "deadline": _iso(g.deadline),
                   "status": progress[g.id].status if g.id in progress else None,
                   "progress": progress[g.id].progress if g.id in progress else None} for g in initiative.goals],
        "tasks": (tasks or TaskSummary()).as_dict(),
        "created_by": initiative.created_by,
        "created_at": initiative.created_at.isoformat() if initiative.created_at else None,
        "updated_at": initiative.updated_at.isoformat() if initiative.updated_at else None,
    }
    if detail:
        data["segments"] = story_segments(initiative)
    return data


def describe(session: Session, initiatives: list[Initiative], today: date | None = None, *,
             detail: bool = False) -> list[dict[str, Any]]:
    """:func:`initiative_dict` for each initiative, task and goal figures read in a few queries."""
    tasks = task_summaries(session, [i.id for i in initiatives], today)
    progress = goal_statuses(session, [g.id for i in initiatives for g in i.goals])
    return [initiative_dict(i, tasks.get(i.id), progress, detail=detail) for i in initiatives]


#: The columns of the initiatives download.
LIST_COLUMNS = ["id", "title", "status", "owner", "start_date", "end_date", "persona", "want", "outcome",
                "story_language", "goals", "tasks", "tasks_done", "done_share", "tasks_overdue", "stakeholders",
                "story"]
STAKEHOLDER_COLUMNS = ["initiative_id", "initiative", "name", "role", "email"]
COMMUNICATION_COLUMNS = ["initiative_id", "initiative", "audience", "message", "channel", "frequency"]


def list_rows(described: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flat rows of the initiatives list (one cell per column) for CSV and Excel.

    >>> list_rows([{"id": 1, "title": "T", "status": "active", "owner": "", "start_date": None, "end_date": None,
    ...   "persona": "p", "want": "w", "outcome": "o", "story_language": "en", "story": "s", "stakeholders": [],
    ...   "goals": [{"id": 3, "title": "Clicks", "status": "on_track"}], "tasks": TaskSummary().as_dict()}])[0]["goals"]
    'Clicks (on_track)'
    """
    rows = []
    for d in described:
        goals = "; ".join(f"{g['title']} ({g['status'] or 'no measurement'})" for g in d["goals"])
        tasks = d["tasks"]
        rows.append({"id": d["id"], "title": d["title"], "status": d["status"], "owner": d["owner"],
                     "start_date": d["start_date"], "end_date": d["end_date"], "persona": d["persona"],
                     "want": d["want"], "outcome": d["outcome"], "story_language": d["story_language"],
                     "goals": goals, "tasks": tasks["total"], "tasks_done": tasks["done"],
                     "done_share": tasks["done_share"], "tasks_overdue": tasks["overdue"],
                     "stakeholders": len(d["stakeholders"]), "story": d["story"]})
    return rows


def stakeholder_rows(initiatives: Iterable[Initiative]) -> list[dict[str, Any]]:
    """One row per stakeholder of ``initiatives``."""
    return [{"initiative_id": i.id, "initiative": i.title, **{k: s.get(k, "") for k in ("name", "role", "email")}}
            for i in initiatives for s in i.stakeholders or []]


def communication_rows(initiatives: Iterable[Initiative]) -> list[dict[str, Any]]:
    """One row per communication-plan entry of ``initiatives``."""
    return [{"initiative_id": i.id, "initiative": i.title,
             **{k: c.get(k, "") for k in ("audience", "message", "channel", "frequency")}}
            for i in initiatives for c in i.communication_plan or []]


__all__ = ["COMMUNICATION_COLUMNS", "LIST_COLUMNS", "STAKEHOLDER_COLUMNS", "TaskSummary", "communication_rows",
           "describe", "goal_statuses", "initiative_dict", "list_rows", "stakeholder_rows", "story_segments",
           "task_summaries"]
