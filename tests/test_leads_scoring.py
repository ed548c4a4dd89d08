"""Rules-based lead scoring on constructed people and activities: every operator, engagement points,
decay, rule and category caps, negative points, groups and thresholds, all hand-computed; the
explanation always adds up to the score; bad rules fail at load time with file and line."""

from __future__ import annotations

import datetime as dt
import math

import ibis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketops.errors import ConfigError
from marketops.leads.scoring_config import FIELDS, ScoreGroup, ScoringConfig
from marketops.leads.scoring_rules import explanation_rows, score_rows
from marketops.settings import load_config

AS_OF = dt.datetime(2024, 7, 1)
EPOCH = AS_OF.replace(tzinfo=dt.UTC).timestamp()
NUMBER_FIELDS = {f for f, k in FIELDS.items() if k == "number"}
BOOL_FIELDS = {f for f, k in FIELDS.items() if k == "boolean"}


def persons(*rows: dict) -> ibis.Table:
    cols: dict[str, list] = {"person_id": [r["person_id"] for r in rows]}
    for f in FIELDS:
        cols[f] = [r.get(f) for r in rows]
    schema = {"person_id": "string", **{f: ("float64" if f in NUMBER_FIELDS else "boolean" if f in BOOL_FIELDS
                                           else "string") for f in FIELDS}}
    t = ibis.memtable(cols, schema=schema)
    return t.mutate(_as_of_epoch=ibis.literal(EPOCH), scored_at=ibis.literal(AS_OF, type="timestamp"))


def activities(*rows: tuple) -> ibis.Table:
    """(person_id, days before AS_OF, type, landing_page=None, event_name=None, campaign=None)."""
    full = [(*r, *([None] * (6 - len(r)))) for r in rows]
    return ibis.memtable({
        "person_id": [r[0] for r in full], "occurred_at": [AS_OF - dt.timedelta(days=r[1]) for r in full],
        "type": [r[2] for r in full], "landing_page": [r[3] for r in full], "event_name": [r[4] for r in full],
        "campaign": [r[5] for r in full], "channel_group": [None for _ in full]},
        schema={"person_id": "string", "occurred_at": "timestamp", "type": "string", "landing_page": "string",
                "event_name": "string", "campaign": "string", "channel_group": "string"})


def group(**kw) -> ScoreGroup:
    kw.setdefault("name", "g")
    return ScoreGroup.model_validate(kw)


def scores(p, a, groups, half_life=30.0) -> dict[tuple[str, str], dict]:
    groups = groups if isinstance(groups, list) else [groups]
    return {(r["person_id"], r["group"]): r for r in score_rows(p, a, groups, half_life).to_pyarrow().to_pylist()}


def details(p, a, groups, half_life=30.0) -> list[dict]:
    groups = groups if isinstance(groups, list) else [groups]
    return explanation_rows(p, a, groups, half_life).to_pyarrow().to_pylist()


def fit_scores(rule: dict, *people: dict) -> dict[str, float]:
    g = group(fit=[{"name": "r", "points": 10, **rule}])
    return {k[0]: v["score"] for k, v in scores(persons(*people), None, g).items()}


PEOPLE = ({"person_id": "a", "job_title": "VP of Marketing", "seniority": "vp", "employees": 250.0,
           "country": "IT", "email_role": False},
          {"person_id": "b", "job_title": "Data Analyst", "seniority": "individual_contributor",
           "employees": 20.0, "country": "US", "email_role": True},
          {"person_id": "c"})  # nothing known


@pytest.mark.parametrize(("rule", "expected"), [
    ({"field": "seniority", "op": "equals", "value": "VP"}, {"a": 10, "b": 0, "c": 0}),  # case-insensitive
    ({"field": "seniority", "op": "not_equals", "value": "vp"}, {"a": 0, "b": 10, "c": 0}),  # unknown: no
    ({"field": "country", "op": "in", "value": ["it", "DE"]}, {"a": 10, "b": 0, "c": 0}),
    ({"field": "country", "op": "not_in", "value": ["IT"]}, {"a": 0, "b": 10, "c": 0}),
    ({"field": "job_title", "op": "contains", "value": ["market", "sales"]}, {"a": 10, "b": 0, "c": 0}),
    ({"field": "job_title", "op": "matches", "value": r"^(vp|head)\b"}, {"a": 10, "b": 0, "c": 0}),
    ({"field": "employees", "op": "between", "value": [200, 1000]}, {"a": 10, "b": 0, "c": 0}),
    ({"field": "employees", "op": "gt", "value": 20}, {"a": 10, "b": 0, "c": 0}),
    ({"field": "employees", "op": "gte", "value": 20}, {"a": 10, "b": 10, "c": 0}),
    ({"field": "employees", "op": "lt", "value": 250}, {"a": 0, "b": 10, "c": 0}),
    ({"field": "employees", "op": "lte", "value": 250}, {"a": 10, "b": 10, "c": 0}),
    ({"field": "employees", "op": "equals", "value": 20}, {"a": 0, "b": 10, "c": 0}),
    ({"field": "country", "op": "is_set"}, {"a": 10, "b": 10, "c": 0}),
    ({"field": "country", "op": "is_not_set"}, {"a": 0, "b": 0, "c": 10}),
    ({"field": "email_role", "op": "equals", "value": True}, {"a": 0, "b": 10, "c": 0}),
])
def test_each_operator_fires_where_it_should(rule, expected):
    assert fit_scores(rule, *PEOPLE) == expected


def test_negative_points_take_away_and_the_explanation_says_why():
    g = group(fit=[{"name": "Senior", "field": "seniority", "op": "equals", "value": "vp", "points": 15},
                   {"name": "Role mailbox", "field": "email_role", "op": "equals", "value": True, "points": -20}])
    p = persons({"person_id": "a", "seniority": "vp", "email_role": True})
    assert scores(p, None, g)[("a", "g")]["score"] == -5
    assert sorted((d["rule"], d["points"]) for d in details(p, None, g)) == [("Role mailbox", -20.0), ("Senior", 15.0)]


def test_engagement_points_per_event_decay_by_half_life_and_ignore_the_future():
    g = group(engagement=[{"name": "Form", "activity": "form_fill", "points": 20},
                          {"name": "Pricing", "activity": "page_view", "url": "/pricing", "points": 8}])
    a = activities(("a", 0, "form_fill"), ("a", 30, "form_fill"),  # 20 + 10 (one half-life old)
                   ("a", 60, "web_session", "https://x.com/pricing"),  # 8 * 1/4 = 2
                   ("a", 1, "web_session", "https://x.com/blog"),  # not pricing
                   ("a", -5, "form_fill"))  # after the scoring moment: not counted
    s = scores(persons({"person_id": "a"}), a, g)[("a", "g")]
    assert s["engagement"] == pytest.approx(32.0)
    rows = {d["rule"]: d for d in details(persons({"person_id": "a"}), a, g)}
    assert rows["Form"]["events"] == 2 and rows["Form"]["points"] == pytest.approx(30.0)
    assert rows["Pricing"]["events"] == 1 and rows["Pricing"]["points"] == pytest.approx(2.0)


def test_rule_half_life_overrides_the_group_and_within_days_limits_the_window():
    g = group(half_life_days=10, engagement=[
        {"name": "Click", "activity": "email_click", "points": 4, "half_life_days": 20},
        {"name": "Ad", "activity": "ad_click", "points": 2, "within_days": 7}])
    a = activities(("a", 20, "email_click"), ("a", 10, "ad_click"), ("a", 0, "ad_click"))
    rows = {d["rule"]: d for d in details(persons({"person_id": "a"}), a, g, half_life=99)}
    assert rows["Click"]["points"] == pytest.approx(2.0)  # 4 * 1/2 (rule's 20-day half-life)
    assert rows["Ad"]["events"] == 1 and rows["Ad"]["points"] == pytest.approx(2.0)  # the 10-day-old one is out


def test_webinar_is_an_event_named_so_or_activity_on_a_webinar_page():
    g = group(engagement=[{"name": "Webinar", "activity": "webinar", "points": 10}])
    a = activities(("a", 0, "event", None, "Webinar attended"), ("a", 0, "web_session", "https://x.com/webinar"),
                   ("a", 0, "event", None, "demo_requested"), ("a", 0, "form_fill", "https://x.com/contact"))
    assert scores(persons({"person_id": "a"}), a, g)[("a", "g")]["score"] == pytest.approx(20.0)


def test_rule_caps_and_category_caps_limit_points_and_show_as_explanation_rows():
    g = group(fit_cap=20, engagement_cap=50,
              fit=[{"name": "VP", "field": "seniority", "op": "equals", "value": "vp", "points": 15},
                   {"name": "IT", "field": "country", "op": "equals", "value": "IT", "points": 10}],
              engagement=[{"name": "Form", "activity": "form_fill", "points": 20, "cap": 40},
                          {"name": "Clicks", "activity": "email_click", "points": 5}])
    a = activities(*[("a", 0, "form_fill")] * 5, *[("a", 0, "email_click")] * 3)
    p = persons({"person_id": "a", "seniority": "vp", "country": "IT"})
    s = scores(p, a, g)[("a", "g")]
    assert (s["fit"], s["engagement"], s["score"]) == (pytest.approx(20), pytest.approx(50), pytest.approx(70))
    rows = {d["rule"]: d["points"] for d in details(p, a, g)}
    assert rows["Form"] == pytest.approx(40)  # 5 x 20 capped at 40
    assert rows["Fit cap (20)"] == pytest.approx(-5)  # 25 -> 20
    assert rows["Engagement cap (50)"] == pytest.approx(-5)  # 40 + 15 -> 50


def test_negative_engagement_rule_cap_is_a_floor():
    g = group(engagement=[{"name": "Unsubscribe page", "activity": "page_view", "url": "/unsubscribe",
                           "points": -10, "cap": 15}])
    a = activities(*[("a", 0, "web_session", "https://x.com/unsubscribe")] * 3)
    assert scores(persons({"person_id": "a"}), a, g)[("a", "g")]["score"] == pytest.approx(-15)


def test_every_person_is_scored_in_every_group_against_its_threshold():
    core = group(name="core", mql_threshold=10,
                 fit=[{"name": "VP", "field": "seniority", "op": "equals", "value": "vp", "points": 12}])
    addon = group(name="addon", mql_threshold=30,
                  fit=[{"name": "Big", "field": "employees", "op": "gte", "value": 100, "points": 30}])
    p = persons({"person_id": "a", "seniority": "vp", "employees": 50.0},
                {"person_id": "b", "employees": 500.0}, {"person_id": "c"})
    s = scores(p, None, [core, addon])
    assert len(s) == 6
    assert {k: v["mql"] for k, v in s.items()} == {
        ("a", "core"): True, ("a", "addon"): False, ("b", "core"): False, ("b", "addon"): True,
        ("c", "core"): False, ("c", "addon"): False}
    assert s[("c", "core")]["score"] == 0 and s[("a", "core")]["scored_at"] == AS_OF


def test_threshold_is_inclusive():
    g = group(mql_threshold=12, fit=[{"name": "VP", "field": "seniority", "op": "equals", "value": "vp", "points": 12}])
    assert scores(persons({"person_id": "a", "seniority": "vp"}), None, g)[("a", "g")]["mql"] is True


# -- the explanation adds up, caps hold ----------------------------------------------------------
_fit_rule = st.fixed_dictionaries({
    "field": st.just("employees"), "op": st.sampled_from(["gte", "lt"]),
    "value": st.integers(0, 500), "points": st.integers(-30, 30)})
_eng_rule = st.fixed_dictionaries({
    "activity": st.sampled_from(["form_fill", "page_view", "email_click"]), "points": st.integers(-10, 25),
    "cap": st.one_of(st.none(), st.integers(1, 40))})
_event = st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 120),
                   st.sampled_from(["form_fill", "web_session", "email_click"]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fit=st.lists(_fit_rule, max_size=3), eng=st.lists(_eng_rule, max_size=3), events=st.lists(_event, max_size=12),
       fit_cap=st.one_of(st.none(), st.integers(1, 40)), eng_cap=st.one_of(st.none(), st.integers(1, 60)),
       emp=st.integers(0, 600))
def test_score_is_the_sum_of_its_explanation_and_caps_are_never_exceeded(fit, eng, events, fit_cap, eng_cap, emp):
    g = group(fit_cap=fit_cap, engagement_cap=eng_cap,
              fit=[{"name": f"f{i}", **r} for i, r in enumerate(fit)],
              engagement=[{"name": f"e{i}", **r} for i, r in enumerate(eng)])
    p = persons({"person_id": "a", "employees": float(emp)}, {"person_id": "b"})
    a = activities(*events) if events else None
    s = scores(p, a, g)
    rows = details(p, a, g)
    caps = {f"e{i}": r["cap"] for i, r in enumerate(eng)}
    for pid in ("a", "b"):
        mine = [r for r in rows if r["person_id"] == pid]
        assert s[(pid, "g")]["score"] == pytest.approx(sum(r["points"] for r in mine), abs=1e-9)
        for cat, cap in (("fit", fit_cap), ("engagement", eng_cap)):
            total = sum(r["points"] for r in mine if r["category"] == cat)
            assert total == pytest.approx(s[(pid, "g")][cat], abs=1e-9)
            if cap is not None:
                assert total <= cap + 1e-9
        for r in mine:
            if caps.get(r["rule"]) is not None:
                assert abs(r["points"]) <= caps[r["rule"]] + 1e-9


# -- configuration errors --------------------------------------------------------------------------
def _config_error(tmp_path, rule_yaml: str) -> ConfigError:
    path = tmp_path / "marketops.yaml"
    path.write_text("name: Acme\nleads:\n  scoring:\n    groups:\n      - name: core\n" + rule_yaml, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(path)
    return e.value


def test_unknown_field_fails_at_load_time_with_file_line_and_suggestion(tmp_path):
    err = _config_error(tmp_path, "        fit:\n          - name: Senior\n            field: senority\n"
                                  "            op: equals\n            value: vp\n            points: 10\n")
    text = str(err)
    assert "marketops.yaml:8:" in text  # the line of `field: senority`
    assert "did you mean 'seniority'" in text


def test_unknown_operator_activity_and_bad_values_are_named(tmp_path):
    err = _config_error(tmp_path, "        fit:\n          - name: X\n            field: country\n"
                                  "            op: equal\n            value: IT\n            points: 1\n")
    assert "did you mean 'equals'" in str(err)
    err = _config_error(tmp_path, "        engagement:\n          - name: X\n            activity: form_fil\n"
                                  "            points: 1\n")
    assert "did you mean 'form_fill'" in str(err)
    err = _config_error(tmp_path, "        fit:\n          - name: X\n            field: employees\n"
                                  "            op: between\n            value: [500, 10]\n            points: 1\n")
    assert "low <= high" in str(err)
    err = _config_error(tmp_path, "        engagement:\n          - name: X\n            activity: page_view\n"
                                  "            url: '(pricing'\n            points: 1\n")
    assert "not a valid regular expression" in str(err)
    err = _config_error(tmp_path, "        fit:\n          - name: X\n            field: country\n"
                                  "            op: gt\n            value: 3\n            points: 1\n")
    assert "compares numbers" in str(err)
    err = _config_error(tmp_path, "        fit:\n          - name: X\n            field: country\n"
                                  "            points: 1\n            weight: 2\n")
    assert "weight" in str(err)


def test_empty_section_scores_with_the_documented_default_group():
    groups = ScoringConfig().effective_groups()
    assert [g.name for g in groups] == ["default"]
    assert groups[0].mql_threshold == 50 and groups[0].fit_cap == 50 and groups[0].engagement_cap == 60
    assert math.isclose(ScoringConfig().half_life_days, 30)


def test_every_scoring_setting_is_documented():
    from pathlib import Path

    from marketops.leads.scoring_config import EngagementRule, FitRule, PredictiveConfig

    text = (Path(__file__).parent.parent / "docs" / "leads.md").read_text(encoding="utf-8")
    section = text[text.index("## Lead scoring"):]
    for model in (ScoringConfig, ScoreGroup, FitRule, EngagementRule, PredictiveConfig):
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no help text"
            assert f"`{name}`" in section, f"{model.__name__}.{name} is missing from docs/leads.md"
    for name in FIELDS:
        assert f"`{name}`" in section, f"field {name} is missing from docs/leads.md"
