"""Templates that create an initiative with its tasks in one go: a campaign brief, a launch
checklist, a new-region playbook (shipped with marketops), and a team's own in
``library.templates_dir`` (``templates/`` by default; a file named like a built-in replaces it).

A template is a YAML file (its name is the file name without ``.yaml``)::

    title: Campaign brief
    description: From brief to launch review.
    placeholders:                     # values asked for when the template is used
      campaign: {label: Campaign name, example: Spring webinar series}
      audience: {label: Who it is for, default: marketing ops leader}
    initiative:
      story: "As a {audience}, I want {campaign}, so that I see more pipeline"   # a user story
      title: "{campaign}"             # optional: default, what the story wants
      status: planned
      duration_days: 42               # end date = start + 42 days (optional)
    tasks:
      - key: brief                    # how other tasks name it in depends_on
        title: Write the brief for {campaign}
        owner: "{owner}"              # optional: default, who uses the template
        start: 0                      # days after the start date
        due: 3
        estimate_hours: 4
        depends_on: []

``{owner}`` (who uses the template) and ``{start}`` (the start date) are always known; every other
``{name}`` must be a placeholder. Errors in a file name the file and line.

Example:
    >>> t = get_template(None, "campaign-brief")
    >>> t.title, len(t.tasks) >= 5, "campaign" in t.placeholders
    ('Campaign brief', True, True)
    >>> plan = plan_from_template(t, start="2027-03-01", owner="fran@acme.test",
    ...                           values={"campaign": "Spring webinar series"})
    >>> plan.tasks[0]["title"], plan.tasks[0]["due_date"].isoformat()
    ('Write the campaign brief for Spring webinar series', '2027-03-03')
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketops.errors import ConfigError, NotFound, ValidationFailed, did_you_mean
from marketops.settings import plain_yaml, yaml_line
from marketops.plan.tasks import find_cycle
from marketops.state import audit
from marketops.state.library import TemplateRun

#: Placeholders every template knows: who uses it, and the start date.
BUILTIN_VALUES = ("owner", "start")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,59}$")


class Placeholder(BaseModel):
    """A value asked for when the template is used."""

    model_config = ConfigDict(extra="forbid")
    label: str = Field(default="", description="What to type, as a form shows it.")
    default: str | None = Field(default=None, description="Used when no value is given; unset: required.")
    example: str = Field(default="", description="An example value shown in forms.")


class TemplateTask(BaseModel):
    """One task the template creates."""

    model_config = ConfigDict(extra="forbid")
    key: str = Field(description="Short name other tasks use in depends_on.")
    title: str
    description: str = ""
    owner: str = Field(default="", description="Who does it; empty: whoever uses the template.")
    start: int = Field(default=0, ge=0, le=3650, description="Days after the start date the task starts.")
    due: int = Field(ge=0, le=3650, description="Days after the start date the task is due.")
    estimate_hours: float | None = Field(default=None, ge=0)
    depends_on: list[str] = Field(default_factory=list)

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        if not _KEY.match(v):
            raise ValueError(f"task key '{v}' must be a short word of letters, digits and '_' (e.g. brief)")
        return v

    @model_validator(mode="after")
    def _dates(self) -> TemplateTask:
        if self.due < self.start:
            raise ValueError(f"task '{self.key}' is due on day {self.due}, before it starts (day {self.start})")
        return self


class TemplateInitiative(BaseModel):
    model_config = ConfigDict(extra="forbid")
    story: str = Field(description="The initiative's user story, with placeholders.")
    title: str = Field(default="", description="Optional; default: what the story wants.")
    status: Literal["proposed", "planned", "active"] = "planned"
    duration_days: int | None = Field(default=None, ge=0, le=3650, description="End date = start + this; "
                                      "default: the last task's due day.")


class Template(BaseModel):
    """A template as its file says it, with its name and where it came from."""

    model_config = ConfigDict(extra="forbid")
    name: str = ""
    source: str = ""  # "built-in" or the file path
    title: str
    description: str = ""
    placeholders: dict[str, Placeholder] = Field(default_factory=dict)
    initiative: TemplateInitiative
    tasks: list[TemplateTask] = Field(min_length=1)

    def required(self) -> list[str]:
        """Placeholders without a default (the values a user must give)."""
        return [k for k, p in self.placeholders.items() if p.default is None]

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "description": self.description, "source": self.source,
                "tasks": len(self.tasks), "placeholders": {k: p.model_dump() for k, p in self.placeholders.items()},
                "required": self.required()}


class _Problem(ValueError):
    """A consistency problem of a template, at a place in its file (``loc``)."""

    def __init__(self, loc: tuple, message: str) -> None:
        super().__init__(message)
        self.loc, self.message = loc, message


def check_consistency(t: Template) -> None:
    """Placeholders known, task keys unique, dependencies existing and without cycles; raises
    :class:`_Problem` with where in the file the problem is."""
    for name in t.placeholders:
        if not _KEY.match(name) or name in BUILTIN_VALUES:
            raise _Problem(("placeholders", name), f"placeholder '{name}' must be a word of letters, digits and "
                           f"'_', and not {' or '.join(BUILTIN_VALUES)} (always known)")
    known = set(t.placeholders) | set(BUILTIN_VALUES)
    texts = [(("initiative", "story"), t.initiative.story), (("initiative", "title"), t.initiative.title)] + [
        (("tasks", i, f), getattr(task, f)) for i, task in enumerate(t.tasks) for f in ("title", "description", "owner")]
    for loc, text in texts:
        try:
            names = fields_of(text)
        except ValueError as e:
            raise _Problem(loc, str(e)) from None
        for field_name in names:
            if field_name not in known:
                raise _Problem(loc, f"'{{{field_name}}}' in \"{text}\" is not a placeholder"
                               f"{did_you_mean(field_name, known)}; known: {', '.join(sorted(known))}")
    keys = [task.key for task in t.tasks]
    for i, task in enumerate(t.tasks):
        if keys.index(task.key) != i:
            raise _Problem(("tasks", i, "key"), f"two tasks have the key '{task.key}'; keys name tasks in "
                           "depends_on, so each is unique")
        for dep in task.depends_on:
            if dep == task.key:
                raise _Problem(("tasks", i, "depends_on"), f"task '{task.key}' cannot depend on itself")
            if dep not in keys:
                raise _Problem(("tasks", i, "depends_on"), f"task '{task.key}' depends on '{dep}', which is not a "
                               f"task of the template{did_you_mean(dep, keys)}")
    edges = {task.key: task.depends_on for task in t.tasks}
    for i, key in enumerate(keys):
        cycle = find_cycle(edges, key)
        if cycle:
            raise _Problem(("tasks", i, "depends_on"), "circular dependency: " + " -> ".join(cycle))


def fields_of(text: str) -> list[str]:
    """The ``{placeholders}`` of a text (``{{`` is a literal brace).

    >>> fields_of("Launch {product} in {region} {{not}}")
    ['product', 'region']
    """
    try:
        return [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as e:
        raise ValueError(f"\"{text}\": {e} (write {{{{ for a literal brace)") from None


def fill(text: str, values: Mapping[str, str]) -> str:
    """``text`` with its placeholders replaced.

    >>> fill("Launch {product}", {"product": "Acme Pulse"})
    'Launch Acme Pulse'
    """
    return string.Formatter().vformat(text, (), dict(values))


# -- reading ---------------------------------------------------------------------------------------------
def parse_template(text: str, name: str, source: str) -> Template:
    """A template from YAML text; errors are ConfigErrors naming ``source`` and the line."""
    try:
        data = YAML(typ="rt").load(text)
    except YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise ConfigError(f"not valid YAML: {getattr(e, 'problem', e)}", file=source,
                          line=mark.line + 1 if mark else None) from None
    if not isinstance(data, dict):
        raise ConfigError("a template is a mapping with title, initiative and tasks", file=source, line=1)
    try:
        template = Template.model_validate({**plain_yaml(data), "name": name, "source": source})
        check_consistency(template)
        return template
    except _Problem as e:
        where = ".".join(map(str, e.loc))
        raise ConfigError(f"{where}: {e.message}", file=source, line=yaml_line(data, e.loc)) from None
    except ValidationError as e:
        err = e.errors()[0]
        loc = tuple(err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbid" or err["type"] == "extra_forbidden":
            msg = f"unknown key '{loc[-1]}'"
        where = ".".join(map(str, loc))
        raise ConfigError(f"{where + ': ' if where else ''}{msg}", file=source, line=yaml_line(data, loc)) from None


def builtin_templates() -> dict[str, Template]:
    """The templates shipped with marketops, by name."""
    out = {}
    folder = resources.files("marketops.library") / "templates"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            name = entry.name[:-5]
            out[name] = parse_template(entry.read_text(encoding="utf-8"), name, "built-in")
    return out


@dataclass
class TemplateSet:
    """The templates a workspace can use, and the files that could not be read (and why)."""

    templates: dict[str, Template]
    problems: list[str] = field(default_factory=list)


def load_templates(folder: Path | None, root: Path | None = None) -> TemplateSet:
    """Built-in templates, overridden and extended by the YAML files of ``folder``."""
    found = TemplateSet(builtin_templates())
    if folder is None or not Path(folder).is_dir():
        return found
    for path in sorted(Path(folder).iterdir()):
        if path.suffix.lower() not in (".yaml", ".yml") or path.name.startswith("."):
            continue
        name = path.stem.lower()
        shown = str(path.relative_to(root)) if root is not None and path.is_relative_to(root) else str(path)
        if not NAME_RE.match(name):
            found.problems.append(f"{shown}: a template's file name is lower-case letters, digits, '-' and '_'")
            continue
        try:
            found.templates[name] = parse_template(path.read_text(encoding="utf-8-sig"), name, shown)
        except ConfigError as e:
            found.problems.append(e.message)
    return found


def get_template(folder: Path | None, name: str, root: Path | None = None) -> Template:
    """The template ``name`` (a broken workspace file of that name raises its ConfigError)."""
    key = str(name).strip().lower()
    found = load_templates(folder, root)
    if key not in found.templates:
        bad = [p for p in found.problems if Path(p.split(":")[0]).stem.lower() == key]
        if bad:
            raise ConfigError(bad[0])
        raise NotFound(f"there is no template '{name}'{did_you_mean(key, found.templates)}; valid: "
                       f"{', '.join(sorted(found.templates))}", hint="`marketops templates list` shows them")
    return found.templates[key]


# -- using ------------------------------------------------------------------------------------------------
@dataclass
class TemplatePlan:
    """What using a template will create: the initiative's fields and the tasks' (dates computed)."""

    template: str
    initiative: dict[str, Any]
    tasks: list[dict[str, Any]]
    values: dict[str, str]


def _as_date(value: dt.date | str | None) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not value or not str(value).strip():
        raise ValidationFailed("a template needs a start date (e.g. 2027-03-01): task dates count from it")
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationFailed(f"the start date must be a date like 2027-03-01, not '{value}'") from None


def parse_values(pairs: list[str] | None) -> dict[str, str]:
    """``["campaign=Spring webinar", "region=DACH"]`` -> a dict; ValidationFailed names a pair without '='.

    >>> parse_values(["campaign=Spring = fresh", " region = DACH"])
    {'campaign': 'Spring = fresh', 'region': 'DACH'}
    """
    out: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = str(pair).partition("=")
        if not sep or not key.strip():
            raise ValidationFailed(f"'{pair}' is not key=value (e.g. --set campaign=\"Spring webinar\")")
        out[key.strip()] = value.strip()
    return out


def preview_values(template: Template, given: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every placeholder's value for a preview: the one given, else its default, else its example,
    else ``<key>``.

    >>> t = next(iter(builtin_templates().values()))
    >>> sorted(preview_values(t)) == sorted(t.placeholders)
    True
    """
    given = given or {}
    return {k: given.get(k) or p.default or p.example or f"<{k}>" for k, p in template.placeholders.items()}


def plan_from_template(template: Template, *, start: dt.date | str | None, owner: str,
                       values: Mapping[str, Any] | None = None) -> TemplatePlan:
    """The initiative and tasks ``template`` makes for this start date, owner and values."""
    start_day = _as_date(start)
    owner = " ".join(str(owner or "").split())
    if not owner:
        raise ValidationFailed("a template needs an owner (who runs the initiative; tasks default to them)")
    given = {str(k): " ".join(str(v).split()) for k, v in (values or {}).items() if v is not None}
    unknown = sorted(set(given) - set(template.placeholders) - set(BUILTIN_VALUES))
    if unknown:
        raise ValidationFailed(f"the template '{template.name}' has no placeholder '{unknown[0]}'"
                               f"{did_you_mean(unknown[0], template.placeholders)}; it asks for: "
                               f"{', '.join(template.placeholders) or 'nothing'}")
    filled: dict[str, str] = {}
    for key, ph in template.placeholders.items():
        value = given.get(key) or ph.default
        if not value:
            label = f" ({ph.label})" if ph.label else ""
            raise ValidationFailed(f"the template '{template.name}' needs a value for '{key}'{label}, e.g. "
                                   f"--set {key}=\"{ph.example or '...'}\"")
        filled[key] = value
    context = {**filled, "owner": owner, "start": start_day.isoformat()}
    last_due = max(t.due for t in template.tasks)
    days = template.initiative.duration_days if template.initiative.duration_days is not None else last_due
    initiative = {"story": fill(template.initiative.story, context),
                  "title": fill(template.initiative.title, context) or None,
                  "status": template.initiative.status, "owner": owner, "start_date": start_day,
                  "end_date": start_day + dt.timedelta(days=max(days, last_due))}
    tasks = [{"key": t.key, "title": fill(t.title, context), "description": fill(t.description, context),
              "owner": fill(t.owner, context) or owner, "start_date": start_day + dt.timedelta(days=t.start),
              "due_date": start_day + dt.timedelta(days=t.due), "estimate_hours": t.estimate_hours,
              "depends_on": list(t.depends_on)} for t in template.tasks]
    return TemplatePlan(template.name, initiative, tasks, filled)


@dataclass
class TemplateResult:
    """What using a template created."""

    initiative: Any
    tasks: list[Any]
    run: TemplateRun


def _order(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tasks so that each comes after the tasks it depends on (template order otherwise kept)."""
    done: list[str] = []
    pending = list(tasks)
    while pending:
        ready = next(t for t in pending if all(d in done for d in t["depends_on"]))
        done.append(ready["key"])
        pending.remove(ready)
    by_key = {t["key"]: t for t in tasks}
    return [by_key[k] for k in done]


def use_template(session: Session, template: Template, *, start: dt.date | str | None, owner: str,
                 values: Mapping[str, Any] | None = None, actor: str, ip: str | None = None) -> TemplateResult:
    """Create the initiative and its tasks (with dependencies) from ``template``, in the caller's
    transaction: either everything is created or, on an error, the caller rolls back and nothing is.
    Audited as ``template.use`` (plus the initiative's and tasks' own events)."""
    from marketops.plan.initiatives import create_initiative
    from marketops.plan.tasks import create_task

    plan = plan_from_template(template, start=start, owner=owner, values=values)
    initiative = create_initiative(session, plan.initiative["story"], actor=actor, title=plan.initiative["title"],
                                   owner=plan.initiative["owner"], status=plan.initiative["status"],
                                   start_date=plan.initiative["start_date"], end_date=plan.initiative["end_date"],
                                   ip=ip)
    ids: dict[str, int] = {}
    created = {}
    for t in _order(plan.tasks):
        change = create_task(session, initiative_id=initiative.id, title=t["title"], description=t["description"],
                             owner=t["owner"], start_date=t["start_date"], due_date=t["due_date"],
                             estimate_hours=t["estimate_hours"], depends_on=[ids[d] for d in t["depends_on"]],
                             actor=actor, ip=ip)
        ids[t["key"]] = change.task.id
        created[t["key"]] = change.task
    run = TemplateRun(template=template.name, initiative_id=initiative.id, start_date=plan.initiative["start_date"],
                      owner=plan.initiative["owner"], values=plan.values, tasks=len(created), created_by=actor)
    session.add(run)
    session.flush()
    audit.record(session, actor, "template.use", f"initiative:{initiative.id}",
                 {"template": template.name, "values": plan.values, "tasks": len(created),
                  "start": plan.initiative["start_date"].isoformat()}, ip)
    return TemplateResult(initiative, [created[t["key"]] for t in plan.tasks], run)


def usage_counts(session: Session) -> dict[str, int]:
    """template name -> how many initiatives were created from it."""
    return dict(session.execute(select(TemplateRun.template, func.count()).group_by(TemplateRun.template)).all())


def template_runs(session: Session, name: str | None = None, limit: int = 50) -> list[TemplateRun]:
    """The newest uses of templates (of ``name`` only, when given)."""
    query = select(TemplateRun).order_by(TemplateRun.created_at.desc(), TemplateRun.id.desc()).limit(limit)
    if name:
        query = query.where(TemplateRun.template == name)
    return list(session.scalars(query))


def created_from(session: Session, initiative_id: int) -> TemplateRun | None:
    """The template use that created an initiative, if any."""
    return session.scalar(select(TemplateRun).where(TemplateRun.initiative_id == initiative_id).limit(1))


__all__ = ["BUILTIN_VALUES", "Placeholder", "Template", "TemplatePlan", "TemplateResult", "TemplateSet",
           "TemplateTask", "builtin_templates", "created_from", "fields_of", "fill", "get_template",
           "load_templates", "parse_template", "parse_values", "plan_from_template", "template_runs",
           "usage_counts", "use_template"]
