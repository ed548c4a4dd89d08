"""Lifecycle stages and the MQL and SQL definitions (the ``leads.lifecycle`` section of marketops.yaml).

The stages are written once here, in funnel order, each with the spellings CRMs use for it; the
off-funnel outcomes (``recycled``, ``rejected``) likewise. The **MQL** and **SQL** definitions are
data: a list of clauses of which any may hold, so marketing and sales read one rule and the app
shows it in words (:meth:`Definition.describe`).

A clause is one of:

* ``stage: mql`` (or a list): the person entered one of these stages (CRM history or an event);
* ``reached: sql``: the person entered this stage or any later one (CRMs skip stages);
* ``score_at_least: 50`` (or ``threshold``: the group's MQL threshold), with ``group``: the person's
  score in that score group (default: the first group) is at least this;
* ``field: lead_status``, ``op``, ``value``: a golden-record field meets a condition (fields and
  operators as in the fit rules of lead scoring);
* ``opportunity: true``: a deal names the person as its contact;
* ``all: [clauses]``: every clause inside holds.

A clause naming an unknown stage, field or score group fails when the file is loaded, with the file,
the line and "did you mean" (validators raise ValueError; the settings loader adds file and line).

Example:
    >>> cfg = LifecycleConfig()
    >>> cfg.stage_names()
    ['subscriber', 'lead', 'mql', 'sql', 'opportunity', 'customer']
    >>> cfg.sql.describe("SQL")
    'A person is an SQL when they entered the stage sql, or a deal names them as its contact.'
    >>> LifecycleConfig.model_validate({"mql": {"any": [{"stage": "mqll"}]}})
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for LifecycleConfig
    mql.any.0.stage
      Value error, unknown stage 'mqll' (did you mean 'mql'?); valid: customer, lead, mql, opportunity, recycled, rejected, sql, subscriber ...
"""

from __future__ import annotations

import contextvars
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    field_validator,
    model_validator,
)

from marketops.errors import known_name
from marketops.leads.scoring_config import FIELDS, OPERATORS, check_value

#: The stage names the clauses being validated may use (set while a LifecycleConfig is validated).
known_stages: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("known_stages", default=None)
#: The score groups of the same file (set by the ``leads`` section while it is validated); None: unchecked.
known_groups: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("known_groups", default=None)

#: Default funnel stages with the spellings CRMs use (HubSpot, Salesforce, Italian, Spanish, Russian).
DEFAULT_STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("subscriber", ("iscritto", "suscriptor", "подписчик")),
    ("lead", ("new lead", "contatto", "лид")),
    ("mql", ("marketing qualified lead", "marketingqualifiedlead", "marketing qualified")),
    ("sql", ("sales qualified lead", "salesqualifiedlead", "sales qualified")),
    ("opportunity", ("opportunita", "oportunidad", "сделка")),
    ("customer", ("closed won", "closed - won", "cliente", "клиент", "evangelist")),
)
#: Off-funnel outcomes: sales hands a lead back to marketing (recycled) or turns it down (rejected).
DEFAULT_OUTCOMES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("recycled", ("recycle", "nurture", "nurturing", "re-nurture", "back to nurture", "riciclato", "reciclado")),
    ("rejected", ("disqualified", "unqualified", "sales rejected", "not qualified", "closed - not converted",
                  "squalificato", "descalificado", "отклонен")),
)


class StageDef(BaseModel):
    """A lifecycle stage (or outcome) and how CRMs spell it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="The stage's name (lower case, `_` for spaces).")
    spellings: list[str] = Field(default_factory=list, description="Other spellings of the stage in CRM exports "
                                 "(case, spaces and `_` do not matter).")

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, data: Any) -> Any:
        # `stages: [lead, mql]` is the short form of `[{name: lead}, {name: mql}]`
        return {"name": data} if isinstance(data, str) else data


class Clause(BaseModel):
    """One condition of a definition: exactly one of ``stage``, ``reached``, ``score_at_least``, ``field``,
    ``opportunity`` or ``all``."""

    model_config = ConfigDict(extra="forbid")

    stage: str | list[str] | None = Field(default=None, description="The person entered this stage (or one of "
                                          "these), by the CRM's history or an event.")
    reached: str | None = Field(default=None, description="The person entered this stage or any later one.")
    score_at_least: float | Literal["threshold"] | None = Field(
        default=None, description="The person's score in `group` is at least this; `threshold`: the group's "
        "MQL threshold (so changing the threshold in `scoring` changes the definition too).")
    group: str | None = Field(default=None, description="Score group of `score_at_least` (default: the first).")
    field: str | None = Field(default=None, description="A golden-record or account field (as in fit rules: "
                              + ", ".join(FIELDS) + ").")
    op: str = Field(default="equals", description="Operator of `field`: " + ", ".join(OPERATORS) + ".")
    value: Any = Field(default=None, description="What `field` is compared with (as in fit rules).")
    opportunity: bool | None = Field(default=None, description="`true`: a deal names the person as its contact.")
    all: list[Clause] | None = Field(default=None, description="Every clause in this list holds.")

    @field_validator("stage")
    @classmethod
    def _known_stage(cls, v: str | list[str] | None) -> str | list[str] | None:
        for s in [v] if isinstance(v, str) else v or []:
            _check_stage(s)
        return v

    @field_validator("reached")
    @classmethod
    def _known_reached(cls, v: str | None) -> str | None:
        return _check_stage(v) if v is not None else v

    @field_validator("group")
    @classmethod
    def _known_group(cls, v: str | None) -> str | None:
        groups = known_groups.get()
        return known_name("score group", v, groups) if v is not None and groups is not None else v

    @field_validator("field")
    @classmethod
    def _known_field(cls, v: str | None) -> str | None:
        return known_name("field", v, FIELDS) if v is not None else v

    @field_validator("op")
    @classmethod
    def _known_op(cls, v: str) -> str:
        return known_name("operator", v, OPERATORS)

    @model_validator(mode="after")
    def _one_kind(self) -> Clause:
        kinds = self.kinds()
        if len(kinds) != 1:
            raise ValueError("a clause needs exactly one of stage, reached, score_at_least, field, opportunity, all"
                             + (f"; this one has {', '.join(kinds)}" if kinds else ""))
        if self.group is not None and kinds != ["score_at_least"]:
            raise ValueError("`group` goes with `score_at_least`")
        if self.field is not None:
            check_value(self.op, self.value, FIELDS[self.field])
        if self.opportunity is False:
            raise ValueError("`opportunity: false` is not a condition; leave the clause out")
        if self.all is not None and not self.all:
            raise ValueError("`all` needs at least one clause")
        return self

    def kinds(self) -> list[str]:
        """Which kinds of condition this clause sets (one when valid)."""
        return [k for k in ("stage", "reached", "score_at_least", "field", "opportunity", "all")
                if getattr(self, k) is not None]

    def stages(self) -> list[str]:
        return [self.stage] if isinstance(self.stage, str) else list(self.stage or [])

    def label(self) -> str:
        """A short name of the clause (the ``how`` of an MQL or SQL).

        >>> Clause(score_at_least="threshold").label(), Clause(stage=["sql", "opportunity"]).label()
        ('score', 'stage sql/opportunity')
        """
        if self.stage is not None:
            return "stage " + "/".join(self.stages())
        if self.reached is not None:
            return f"reached {self.reached}"
        if self.score_at_least is not None:
            return "score" + (f" {self.group}" if self.group else "")
        if self.field is not None:
            return f"field {self.field}"
        if self.opportunity:
            return "opportunity"
        return " and ".join(c.label() for c in self.all or [])

    def describe(self, groups: dict[str, float] | None = None) -> str:
        """The clause in plain words; ``groups`` maps score groups to their MQL thresholds (the first is
        the default group).

        >>> Clause(score_at_least="threshold", group="core").describe({"core": 40})
        'their score in group core reaches 40 (the MQL threshold of core)'
        >>> Clause(field="lead_status", op="not_in", value=["Unqualified"]).describe()
        "their lead status is not any of 'Unqualified'"
        """
        if self.stage is not None:
            names = self.stages()
            return (f"they entered the stage {names[0]}" if len(names) == 1
                    else "they entered one of the stages " + ", ".join(names))
        if self.reached is not None:
            return f"they reached the stage {self.reached} or a later one"
        if self.score_at_least is not None:
            group = self.group or (next(iter(groups)) if groups else "default")
            if self.score_at_least == "threshold":
                limit = (groups or {}).get(group)
                shown = f"{limit:g} (the MQL threshold of {group})" if limit is not None else \
                    f"the MQL threshold of {group}"
                return f"their score in group {group} reaches {shown}"
            return f"their score in group {group} is at least {self.score_at_least:g}"
        if self.field is not None:
            return f"their {self.field.replace('_', ' ')} {_op_words(self.op, self.value)}"
        if self.opportunity:
            return "a deal names them as its contact"
        return "all of: " + "; ".join(c.describe(groups) for c in self.all or [])


def _op_words(op: str, value: Any) -> str:
    def q(v: Any) -> str:
        return f"'{v}'" if isinstance(v, str) else f"{v}"

    values = ", ".join(q(v) for v in value) if isinstance(value, list) else q(value)
    return {"equals": f"is {values}", "not_equals": f"is not {values}", "in": f"is any of {values}",
            "not_in": f"is not any of {values}", "contains": f"contains {values}", "matches": f"matches {values}",
            "between": f"is between {values.replace(', ', ' and ')}", "gt": f"is more than {values}",
            "gte": f"is at least {values}", "lt": f"is less than {values}", "lte": f"is at most {values}",
            "is_set": "is set", "is_not_set": "is not set"}[op]


def _check_stage(name: str) -> str:
    stages = known_stages.get()
    if stages is None:
        stages = [n for n, _ in (*DEFAULT_STAGES, *DEFAULT_OUTCOMES)]
    return known_name("stage", name, stages)


class Definition(BaseModel):
    """A qualification definition: a person qualifies when any of its clauses holds."""

    model_config = ConfigDict(extra="forbid")

    description: str | None = Field(default=None, description="The definition in your own words, shown next to "
                                    "the generated one.")
    any: list[Clause] = Field(min_length=1, description="Clauses; the person qualifies when any holds, at the "
                              "earliest moment one held.")

    def describe(self, what: str, groups: dict[str, float] | None = None) -> str:
        """The definition in one plain sentence.

        >>> Definition(any=[{"stage": "mql"}]).describe("MQL")
        'A person is an MQL when they entered the stage mql.'
        """
        parts = [c.describe(groups) for c in self.any]
        body = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + ", or " + parts[-1]
        return f"A person is an {what} when {body}."


def _unchecked(make: Any) -> Definition:
    # the defaults are checked against the section's stages by LifecycleConfig, with a clearer message
    token = known_stages.set(None)
    try:
        return make()
    finally:
        known_stages.reset(token)


def _default_mql() -> Definition:
    return _unchecked(lambda: Definition(description="Marketing hands a lead to sales when its score reaches the MQL threshold or "
                      "when the CRM marks it as an MQL.",
                      any=[Clause(score_at_least="threshold"), Clause(stage="mql")]))


def _default_sql() -> Definition:
    return _unchecked(lambda: Definition(description="Sales accepts the lead: the CRM marks it as an SQL or a deal is opened for it.",
                      any=[Clause(stage="sql"), Clause(opportunity=True)]))


class LifecycleConfig(BaseModel):
    """Lifecycle stages in funnel order, the off-funnel outcomes, and the MQL and SQL definitions."""

    model_config = ConfigDict(extra="forbid")

    stages: list[StageDef] = Field(
        default_factory=lambda: [StageDef(name=n, spellings=list(s)) for n, s in DEFAULT_STAGES],
        description="The funnel's stages in order, each with its CRM spellings (default: subscriber, lead, mql, "
        "sql, opportunity, customer). The funnel report reads its stages from here.")
    outcomes: list[StageDef] = Field(
        default_factory=lambda: [StageDef(name=n, spellings=list(s)) for n, s in DEFAULT_OUTCOMES],
        description="Off-funnel outcomes with their spellings (default: recycled: nurture...; rejected: "
        "disqualified, unqualified...). The handoff report counts them with their reasons.")
    mql: Definition = Field(default_factory=_default_mql, description="Who is a marketing-qualified lead "
                            "(default: score at the group's threshold, or the CRM's MQL stage).")
    sql: Definition = Field(default_factory=_default_sql, description="Who is a sales-qualified lead "
                            "(default: the CRM's SQL stage, or a deal naming them).")

    @model_validator(mode="wrap")
    @classmethod
    def _stages_first(cls, data: Any, handler: ModelWrapValidatorHandler[LifecycleConfig]) -> LifecycleConfig:
        # the definitions may name this section's own stages: check them against it, not the defaults
        token = known_stages.set(_stage_names_of(data))
        try:
            return handler(data)
        finally:
            known_stages.reset(token)

    @model_validator(mode="after")
    def _unique(self) -> LifecycleConfig:
        if len(self.stages) < 2:
            raise ValueError("lifecycle stages need at least two stages, in funnel order")
        seen: dict[str, str] = {}
        from marketops.lifecycle import stage_key

        for s in (*self.stages, *self.outcomes):
            for spelling in (s.name, *s.spellings):
                key = stage_key(spelling)
                if seen.get(key, s.name) != s.name:
                    raise ValueError(f"'{spelling}' is a spelling of both {seen[key]} and {s.name}")
                seen[key] = s.name
        names = {s.name for s in (*self.stages, *self.outcomes)}
        for what in ("mql", "sql"):
            if what in self.model_fields_set:
                continue
            missing = sorted({s for c in getattr(self, what).any for s in _stages_named(c)} - names)
            if missing:
                raise ValueError(f"the default {what.upper()} definition reads the stage '{missing[0]}', which these "
                                 f"stages do not have; write `{what}:` with your own stages")
        return self

    def stage_names(self) -> list[str]:
        """The funnel stages in order."""
        return [s.name for s in self.stages]

    def outcome_names(self) -> list[str]:
        return [s.name for s in self.outcomes]

    def spellings(self) -> dict[str, str]:
        """Every comparable spelling (:func:`marketops.lifecycle.stage_key`) -> stage or outcome name."""
        from marketops.lifecycle import spelling_map

        return spelling_map(self)


def _stages_named(c: Clause) -> list[str]:
    return [*c.stages(), *([c.reached] if c.reached else []), *(s for sub in c.all or [] for s in _stages_named(sub))]


def _stage_names_of(data: Any) -> list[str] | None:
    if not isinstance(data, dict):
        return None
    names: list[str] = []
    for key, default in (("stages", DEFAULT_STAGES), ("outcomes", DEFAULT_OUTCOMES)):
        items = data.get(key)
        if not isinstance(items, list):
            names += [n for n, _ in default]
            continue
        for item in items:
            name = item.get("name") if isinstance(item, dict) else item
            if isinstance(name, str):
                names.append(name)
    return names


def groups_of_scoring(scoring: Any) -> list[str]:
    """The score group names a raw ``scoring`` section declares (``default`` when it declares none)."""
    groups = scoring.get("groups") if isinstance(scoring, dict) else None
    if not isinstance(groups, list) or not groups:
        return ["default"]
    return [g["name"] for g in groups if isinstance(g, dict) and isinstance(g.get("name"), str)]


Clause.model_rebuild()
