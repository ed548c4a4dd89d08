"""Lead scoring: fit and engagement rules, groups, decay and the MQL threshold (the ``leads:`` section of
marketops.yaml).

A rule that names an unknown field, activity or operator fails when the file is loaded, with the file,
the line and "did you mean" (the validators raise ValueError, which the settings loader turns into a
:class:`~marketops.errors.ConfigError`).

Example:
    >>> cfg = ScoringConfig.model_validate({"groups": [{"name": "core", "mql_threshold": 40, "fit": [
    ...     {"name": "Senior", "field": "seniority", "op": "in", "value": ["vp", "c_level"], "points": 20}]}]})
    >>> [g.name for g in cfg.effective_groups()], cfg.effective_groups()[0].fit[0].points
    (['core'], 20.0)
    >>> FitRule(name="x", field="senority", op="equals", value="vp", points=1)
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for FitRule
    field
      Value error, unknown field 'senority' (did you mean 'seniority'?); valid: ...
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from marketops.errors import known_name

#: Fields a fit rule can test: the person's golden record, flags of their email and their account.
PERSON_FIELDS = {
    "job_title": "string", "seniority": "string", "job_function": "string", "country": "string",
    "region": "string", "city": "string", "lead_source": "string", "lifecycle_stage": "string",
    "lead_status": "string", "owner": "string", "company": "string", "email": "string",
    "email_domain": "string", "email_role": "boolean", "email_disposable": "boolean", "unsubscribed": "boolean",
}
#: ``segment`` is the account's size band by the workspace's ``segments`` setting.
ACCOUNT_FIELDS = {
    "industry": "string", "employees": "number", "segment": "string", "annual_revenue": "number",
    "account_country": "string", "account_domain": "string", "account_name": "string", "account_owner": "string",
}
FIELDS = {**PERSON_FIELDS, **ACCOUNT_FIELDS}

#: Operators and what their ``value`` must be.
OPERATORS = ("equals", "not_equals", "in", "not_in", "contains", "matches", "between",
             "gt", "gte", "lt", "lte", "is_set", "is_not_set")

#: Activities an engagement rule counts (see docs/leads.md for how each is read from touchpoints).
ACTIVITIES = ("page_view", "form_fill", "email_open", "email_click", "ad_click", "webinar", "event", "any")

def _regex(pattern: str | None, what: str) -> str | None:
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as e:
            raise ValueError(f"{what} '{pattern}' is not a valid regular expression: {e}") from None
    return pattern


class FitRule(BaseModel):
    """Points when a person or account field meets a condition (counted once)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="What the rule means, shown in every explanation (`Senior title`).")
    field: str = Field(description="The field tested: " + ", ".join(FIELDS) + ".")
    op: str = Field(default="equals", description="Operator: " + ", ".join(OPERATORS) + ".")
    value: Any = Field(default=None, description="What the field is compared with: a text or number; a list "
                       "for `in`/`not_in`/`contains` (any of them); `[low, high]` (inclusive) for `between`; a "
                       "regular expression for `matches`; nothing for `is_set`/`is_not_set`. Text is compared "
                       "case-insensitively.")
    points: float = Field(description="Points when the condition holds; negative points take away "
                          "(role mailboxes, competitors).")

    @field_validator("field")
    @classmethod
    def _known_field(cls, v: str) -> str:
        return known_name("field", v, FIELDS)

    @field_validator("op")
    @classmethod
    def _known_op(cls, v: str) -> str:
        return known_name("operator", v, OPERATORS)

    @model_validator(mode="after")
    def _value_fits_op(self) -> FitRule:
        check_value(self.op, self.value, FIELDS[self.field])
        return self


def check_value(op: str, value: Any, kind: str) -> None:
    """Raise ValueError when ``value`` does not suit the operator ``op`` on a field of ``kind``."""
    if op in ("is_set", "is_not_set"):
        return
    if value is None:
        raise ValueError(f"operator '{op}' needs a value")
    if op == "between":
        if not (isinstance(value, list) and len(value) == 2 and all(isinstance(x, int | float) for x in value)):
            raise ValueError(f"'between' needs a list of two numbers [low, high], not {value!r}")
        if value[0] > value[1]:
            raise ValueError(f"'between' needs low <= high, not {value!r}")
    if op in ("gt", "gte", "lt", "lte") and not isinstance(value, int | float):
        raise ValueError(f"operator '{op}' needs a number, not {value!r}")
    if op in ("between", "gt", "gte", "lt", "lte") and kind != "number":
        raise ValueError(f"operator '{op}' compares numbers; use it on employees or annual_revenue")
    if op in ("contains", "matches") and kind != "string":
        raise ValueError(f"operator '{op}' compares text; use equals, in or between on a {kind} field")
    if op in ("in", "not_in") and not isinstance(value, list):
        raise ValueError(f"operator '{op}' needs a list of values, not {value!r}")
    if op == "matches":
        for v in value if isinstance(value, list) else [value]:
            _regex(str(v), "pattern")


class EngagementRule(BaseModel):
    """Points for each activity of a kind, decayed with age and capped."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="What the rule means, shown in every explanation (`Pricing page visit`).")
    activity: str = Field(description="The activity counted: " + ", ".join(ACTIVITIES) + ".")
    url: str | None = Field(default=None, description="Only activities whose page (landing page) matches this "
                            "regular expression, case-insensitive (`/pricing`).")
    event_name: str | None = Field(default=None, description="Only events whose name matches this regular "
                                   "expression (`webinar`).")
    campaign: str | None = Field(default=None, description="Only activities whose campaign matches this regular "
                                 "expression.")
    channel_group: str | None = Field(default=None, description="Only activities in this channel group (`Paid Search`).")
    points: float = Field(description="Points per activity (before decay).")
    cap: float | None = Field(default=None, gt=0, description="Most points (in absolute value) this rule can give "
                              "one person; none: no limit.")
    half_life_days: float | None = Field(default=None, gt=0, description="Days after which an activity counts half; "
                                         "default: the group's, then the section's.")
    within_days: int | None = Field(default=None, gt=0, description="Only activities of the last N days before "
                                    "the scoring date.")

    @field_validator("activity")
    @classmethod
    def _known_activity(cls, v: str) -> str:
        return known_name("activity", v, ACTIVITIES)

    @field_validator("url", "event_name", "campaign")
    @classmethod
    def _valid_regex(cls, v: str | None) -> str | None:
        return _regex(v, "pattern")


class ScoreGroup(BaseModel):
    """One rule set (e.g. per product line); every person is scored in every group."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="The group's name (letters, digits, `_.-`).")
    mql_threshold: float = Field(default=50, description="A person whose score reaches this is an MQL in this group.")
    fit_cap: float | None = Field(default=None, gt=0, description="Most fit points a person can have; none: no limit.")
    engagement_cap: float | None = Field(default=None, gt=0, description="Most engagement points; none: no limit.")
    half_life_days: float | None = Field(default=None, gt=0, description="Decay of this group's engagement rules "
                                         "(default: the section's `half_life_days`).")
    fit: list[FitRule] = Field(default_factory=list, description="Fit rules on person and account fields.")
    engagement: list[EngagementRule] = Field(default_factory=list, description="Engagement rules on activity.")

    @model_validator(mode="after")
    def _unique_rule_names(self) -> ScoreGroup:
        names = [r.name for r in [*self.fit, *self.engagement]]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"rule names must be unique within a group; repeated: {', '.join(dup)}")
        return self


class PredictiveConfig(BaseModel):
    """The predictive score: a model trained on historical conversions (needs scikit-learn)."""

    model_config = ConfigDict(extra="forbid")

    converted_stages: list[str] = Field(default_factory=lambda: ["sql", "opportunity", "customer"],
                                        description="Reaching any of these stages counts as converted.")
    window_days: int = Field(default=90, gt=0, description="A lead converted when it reached a converted stage "
                             "within this many days of becoming a lead.")
    observe_days: int = Field(default=7, ge=0, description="Activity up to this many days after becoming a lead "
                              "feeds the features (and the rules score compared with the model).")
    test_fraction: float = Field(default=0.3, gt=0, lt=1, description="The newest share of leads held out to test.")
    min_auc_gain: float = Field(default=0.02, ge=0, description="The model is used (with `use: auto`) only when its "
                                "held-out AUC beats the rules score's by at least this much.")
    mql_probability: float = Field(default=0.5, gt=0, lt=1, description="With the predictive score, a person is an "
                                   "MQL when the predicted chance of converting reaches this.")


class ScoringConfig(BaseModel):
    """Lead scoring: fit and engagement rules, groups, decay and the MQL threshold."""

    model_config = ConfigDict(extra="forbid")

    use: Literal["auto", "rules", "predictive"] = Field(
        default="auto", description="Which score is the score: `rules`; `predictive` (when a model has been "
        "trained); `auto`: the model when its last report beat the rules on held-out data, else the rules.")
    as_of: Literal["latest", "today"] | date = Field(
        default="latest", description="The scoring date decay is measured from: `latest` (the newest activity "
        "in the data, at most today), `today`, or a date.")
    half_life_days: float = Field(default=30, gt=0, description="Default decay: an activity this many days old "
                                  "counts half.")
    groups: list[ScoreGroup] = Field(default_factory=list, description="Score groups; none: the default group "
                                     "(see docs/leads.md).")
    predictive: PredictiveConfig = Field(default_factory=PredictiveConfig, description="The predictive score.")

    @model_validator(mode="after")
    def _unique_groups(self) -> ScoringConfig:
        names = [g.name for g in self.groups]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"score group names must be unique; repeated: {', '.join(dup)}")
        return self

    def effective_groups(self) -> list[ScoreGroup]:
        """The groups to score: the configured ones, else :data:`DEFAULT_GROUP`."""
        return self.groups or [DEFAULT_GROUP]

    def group(self, name: str) -> ScoreGroup:
        """The group called ``name`` (NotFound with "did you mean" otherwise)."""
        from marketops.errors import unknown_name

        for g in self.effective_groups():
            if g.name == name:
                return g
        raise unknown_name("score group", name, [g.name for g in self.effective_groups()])


#: The group scored when ``leads.scoring.groups`` is empty: tuned on the sample company (a B2B analytics
#: vendor), sensible for most B2B funnels.
DEFAULT_GROUP = ScoreGroup(
    name="default", mql_threshold=50, fit_cap=50, engagement_cap=60,
    fit=[
        FitRule(name="Executive or VP", field="seniority", op="in", value=["c_level", "vp"], points=15),
        FitRule(name="Director or manager", field="seniority", op="in", value=["director", "manager"], points=10),
        FitRule(name="Marketing or sales role", field="job_function", op="in", value=["marketing", "sales"], points=10),
        FitRule(name="Mid-market or enterprise", field="employees", op="gte", value=200, points=10),
        FitRule(name="Core market", field="country", op="in", value=["US", "GB", "DE", "FR", "IT", "ES"], points=5),
        FitRule(name="Role mailbox", field="email_role", op="equals", value=True, points=-20),
        FitRule(name="Disposable email", field="email_disposable", op="equals", value=True, points=-30),
    ],
    engagement=[
        EngagementRule(name="Demo or contact request", activity="form_fill", points=20, cap=40),
        EngagementRule(name="Pricing page visit", activity="page_view", url="/pricing", points=5, cap=15),
        EngagementRule(name="Webinar", activity="webinar", points=10, cap=20),
        EngagementRule(name="Page view", activity="page_view", points=1, cap=10),
        EngagementRule(name="Email click", activity="email_click", points=3, cap=12),
        EngagementRule(name="Email open", activity="email_open", points=1, cap=5),
        EngagementRule(name="Ad click", activity="ad_click", points=2, cap=6),
    ],
)
