"""Initiatives: planned work born from a user story, with stakeholders, the goals it serves, a
status, dates and a communication plan. Every change is written to the audit log
(target ``initiative:<id>``), which is the initiative's history.

The CLI, the web pages and the API all go through these functions, so they refuse the same
things with the same messages (see :mod:`marketops.plan.initiative_fields`).

Example:
    >>> from marketops.state.db import init_db, session_scope
    >>> _ = init_db("sqlite://")
    >>> with session_scope("sqlite://") as s:
    ...     i = create_initiative(s, "As a sales rep, I want faster lead routing, so that I call sooner",
    ...                           actor="ana@acme.test", owner="ana@acme.test", start_date="2026-01-05")
    ...     i = update_initiative(s, i.id, {"status": "active"}, actor="ana@acme.test")
    ...     i.title, i.persona, i.status, i.start_date.isoformat()
    ('Faster lead routing', 'sales rep', 'active', '2026-01-05')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from marketops.errors import NotFound, ValidationFailed
from marketops.plan.initiative_fields import (
    as_date,
    check_communication,
    check_communication_plan,
    check_dates,
    check_stakeholder,
    check_stakeholders,
    check_status,
    fit,
)
from marketops.plan.stories import parse_story, story_title
from marketops.state import audit
from marketops.state.planning import Goal, Initiative

#: The fields an update may change.
FIELDS = ("story", "title", "owner", "status", "start_date", "end_date", "stakeholders", "communication_plan",
          "goal_ids")


def target(initiative_id: int) -> str:
    """The audit log's name for an initiative.

    >>> target(7)
    'initiative:7'
    """
    return f"initiative:{initiative_id}"


def get_initiative(session: Session, initiative_id: int) -> Initiative:
    """The initiative ``initiative_id``, or NotFound."""
    initiative = session.get(Initiative, initiative_id)
    if initiative is None:
        raise NotFound(f"there is no initiative with id {initiative_id}; `marketops initiatives list` shows them")
    return initiative


def list_initiatives(session: Session, *, status: str | None = None, owner: str | None = None) -> list[Initiative]:
    """Initiatives, the active ones first, then by start date and id; ``owner`` matches part of the
    owner, case-insensitively."""
    query = select(Initiative)
    if status:
        query = query.where(Initiative.status == check_status(status))
    if owner and owner.strip():
        query = query.where(func.lower(Initiative.owner).contains(owner.strip().lower(), autoescape=True))
    order = {s: n for n, s in enumerate(("active", "planned", "proposed", "done", "cancelled"))}
    rows = list(session.scalars(query.order_by(Initiative.id)))
    return sorted(rows, key=lambda i: (order.get(i.status, 9), i.start_date or date.max, i.id))


def owners(session: Session) -> list[str]:
    """Every owner an initiative has, for filter menus."""
    return [o for o in session.scalars(select(Initiative.owner).distinct().order_by(Initiative.owner)) if o]


def _goals(session: Session, goal_ids: Iterable[Any]) -> list[Goal]:
    goals: list[Goal] = []
    for raw in goal_ids or []:
        try:
            goal_id = int(raw)
        except (TypeError, ValueError):
            raise ValidationFailed(f"'{raw}' is not a goal id; goal ids are whole numbers") from None
        goal = session.get(Goal, goal_id)
        if goal is None:
            raise ValidationFailed(f"there is no goal with id {goal_id}; `marketops goals list` shows the goals")
        if goal not in goals:
            goals.append(goal)
    return goals


def _apply_story(initiative: Initiative, story: str) -> None:
    parsed = parse_story(story)
    initiative.story = parsed.text
    initiative.persona = fit(parsed.persona, "persona")
    initiative.want = fit(parsed.want, "want")
    initiative.outcome = fit(parsed.outcome, "outcome")
    initiative.story_language = parsed.language


def _default_title(story: str) -> str | None:
    try:
        return story_title(parse_story(story))
    except ValidationFailed:
        return None


def _plain(value: Any) -> Any:
    """A value as the audit log keeps it (JSON)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def create_initiative(session: Session, story: str, *, actor: str, title: str | None = None, owner: str = "",
                      status: str = "proposed", start_date: date | str | None = None,
                      end_date: date | str | None = None, stakeholders: Iterable[Any] = (),
                      communication_plan: Iterable[Any] = (), goal_ids: Iterable[Any] = (),
                      ip: str | None = None) -> Initiative:
    """A new initiative from ``story`` (its title defaults to the story's want); everything is checked
    before anything is written, and the creation is audited."""
    initiative = Initiative()
    _apply_story(initiative, story)
    initiative.title = fit(title, "title") or story_title(parse_story(story))
    initiative.owner = fit(owner, "owner")
    initiative.status = check_status(status or "proposed")
    initiative.start_date = as_date(start_date, "start date")
    initiative.end_date = as_date(end_date, "end date")
    check_dates(initiative.start_date, initiative.end_date)
    initiative.stakeholders = check_stakeholders(stakeholders)
    initiative.communication_plan = check_communication_plan(communication_plan)
    initiative.created_by = actor
    goals = _goals(session, goal_ids)
    session.add(initiative)
    initiative.goals = goals
    session.flush()
    audit.record(session, actor, "initiative.create", target(initiative.id),
                 {"title": initiative.title, "status": initiative.status, "language": initiative.story_language,
                  "goals": [g.id for g in goals]}, ip)
    return initiative


def update_initiative(session: Session, initiative_id: int, changes: Mapping[str, Any], *, actor: str,
                      ip: str | None = None, action: str = "initiative.update") -> Initiative:
    """Change the fields in ``changes`` (any of :data:`FIELDS`; lists replace the whole list).
    A new story is parsed again; when the title was the old story's want, it follows the new one.
    Nothing changes unless every field is valid; an update that changes nothing is not audited."""
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise ValidationFailed(f"cannot change '{unknown[0]}' of an initiative; valid: {', '.join(FIELDS)}")
    initiative = get_initiative(session, initiative_id)
    before = {f: _plain(getattr(initiative, f)) for f in FIELDS if f != "goal_ids"}
    before["goal_ids"] = [g.id for g in initiative.goals]
    new: dict[str, Any] = {}
    if "story" in changes:
        parsed = parse_story(changes["story"])
        new.update(story=parsed.text, persona=fit(parsed.persona, "persona"), want=fit(parsed.want, "want"),
                   outcome=fit(parsed.outcome, "outcome"), story_language=parsed.language)
        if "title" not in changes and initiative.title == _default_title(initiative.story):
            new["title"] = story_title(parsed)
    if "title" in changes:
        new["title"] = fit(changes["title"], "title") or story_title(parse_story(new.get("story", initiative.story)))
    if "owner" in changes:
        new["owner"] = fit(changes["owner"], "owner")
    if "status" in changes:
        new["status"] = check_status(changes["status"])
    if "start_date" in changes:
        new["start_date"] = as_date(changes["start_date"], "start date")
    if "end_date" in changes:
        new["end_date"] = as_date(changes["end_date"], "end date")
    check_dates(new.get("start_date", initiative.start_date), new.get("end_date", initiative.end_date))
    if "stakeholders" in changes:
        new["stakeholders"] = check_stakeholders(changes["stakeholders"])
    if "communication_plan" in changes:
        new["communication_plan"] = check_communication_plan(changes["communication_plan"])
    goals = _goals(session, changes["goal_ids"]) if "goal_ids" in changes else None

    for name, value in new.items():
        setattr(initiative, name, value)
    if goals is not None:
        initiative.goals = goals
    after = {f: _plain(getattr(initiative, f)) for f in FIELDS if f != "goal_ids"}
    after["goal_ids"] = [g.id for g in initiative.goals]
    changed = {f: {"from": before[f], "to": after[f]} for f in FIELDS if before[f] != after[f]}
    if changed:
        session.flush()
        audit.record(session, actor, action, target(initiative.id), {"changes": changed}, ip)
    return initiative


def delete_initiative(session: Session, initiative_id: int, *, actor: str, ip: str | None = None) -> None:
    """Remove an initiative with its tasks (goals stay: other initiatives may serve them)."""
    initiative = get_initiative(session, initiative_id)
    audit.record(session, actor, "initiative.delete", target(initiative.id),
                 {"title": initiative.title, "tasks": len(initiative.tasks)}, ip)
    session.delete(initiative)
    session.flush()


# -- one entry at a time: what the page's forms and the CLI do ------------------------------------------
def add_stakeholder(session: Session, initiative_id: int, stakeholder: Mapping[str, Any], *, actor: str,
                    ip: str | None = None) -> Initiative:
    """Add one stakeholder (refused when the same person is already listed)."""
    initiative = get_initiative(session, initiative_id)
    person = check_stakeholder(stakeholder)
    return update_initiative(session, initiative_id, {"stakeholders": [*initiative.stakeholders, person]},
                             actor=actor, ip=ip, action="initiative.stakeholder_add")


def remove_stakeholder(session: Session, initiative_id: int, index: int, *, actor: str, ip: str | None = None,
                       expected: str | None = None) -> Initiative:
    """Remove the stakeholder at ``index`` (0-based); ``expected`` (their name) guards against a list
    that changed since the page was drawn."""
    initiative = get_initiative(session, initiative_id)
    people = list(initiative.stakeholders)
    _check_index(people, index, expected, "name", "stakeholder")
    del people[index]
    return update_initiative(session, initiative_id, {"stakeholders": people}, actor=actor, ip=ip,
                             action="initiative.stakeholder_remove")


def add_communication(session: Session, initiative_id: int, entry: Mapping[str, Any], *, actor: str,
                      ip: str | None = None) -> Initiative:
    """Add one entry to the communication plan."""
    initiative = get_initiative(session, initiative_id)
    checked = check_communication(entry)
    return update_initiative(session, initiative_id, {"communication_plan": [*initiative.communication_plan,
                                                                              checked]},
                             actor=actor, ip=ip, action="initiative.comms_add")


def remove_communication(session: Session, initiative_id: int, index: int, *, actor: str, ip: str | None = None,
                         expected: str | None = None) -> Initiative:
    """Remove the communication-plan entry at ``index`` (0-based); ``expected`` is its audience."""
    initiative = get_initiative(session, initiative_id)
    plan = list(initiative.communication_plan)
    _check_index(plan, index, expected, "audience", "communication plan entry")
    del plan[index]
    return update_initiative(session, initiative_id, {"communication_plan": plan}, actor=actor, ip=ip,
                             action="initiative.comms_remove")


def link_goal(session: Session, initiative_id: int, goal_id: Any, *, actor: str, ip: str | None = None) -> Initiative:
    """Link a goal the initiative serves (linking twice changes nothing)."""
    initiative = get_initiative(session, initiative_id)
    ids = [g.id for g in initiative.goals]
    return update_initiative(session, initiative_id, {"goal_ids": [*ids, goal_id]}, actor=actor, ip=ip,
                             action="initiative.goal_link")


def unlink_goal(session: Session, initiative_id: int, goal_id: int, *, actor: str,
                ip: str | None = None) -> Initiative:
    """Unlink a goal; NotFound when it was not linked."""
    initiative = get_initiative(session, initiative_id)
    ids = [g.id for g in initiative.goals]
    if goal_id not in ids:
        raise NotFound(f"goal {goal_id} is not linked to initiative {initiative_id}")
    return update_initiative(session, initiative_id, {"goal_ids": [i for i in ids if i != goal_id]}, actor=actor,
                             ip=ip, action="initiative.goal_unlink")


def _check_index(items: list[dict], index: int, expected: str | None, key: str, what: str) -> None:
    if not 0 <= index < len(items):
        raise NotFound(f"there is no {what} number {index + 1} (the initiative has {len(items)})")
    if expected is not None and items[index].get(key) != expected:
        raise ValidationFailed(f"the {what} list changed while you were looking (number {index + 1} is now "
                               f"'{items[index].get(key)}', not '{expected}'); nothing was removed")


def search_goals(session: Session, text: str = "", limit: int = 200) -> list[Goal]:
    """Goals to link, by title or metric (for the page's goal menu)."""
    query = select(Goal).order_by(Goal.title).limit(limit)
    if text.strip():
        needle = text.strip().lower()
        query = query.where(or_(func.lower(Goal.title).contains(needle, autoescape=True),
                                func.lower(Goal.metric).contains(needle, autoescape=True)))
    return list(session.scalars(query))


__all__ = ["FIELDS", "add_communication", "add_stakeholder", "create_initiative", "delete_initiative",
           "get_initiative", "link_goal", "list_initiatives", "owners", "remove_communication", "remove_stakeholder",
           "search_goals", "target", "unlink_goal", "update_initiative"]
