"""The library's rules: playbook search ranking (accents, Cyrillic, case), templates creating an
initiative with its tasks, asset expiry states."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketops.errors import ConfigError, NotFound, ValidationFailed
from marketops.library import assets as reg
from marketops.library import playbooks as pb
from marketops.library import templates as tpl
from marketops.library.search import PlaybookIndex, fts5_available, match_expression
from marketops.plan.tasks import list_tasks
from marketops.state.audit import search as audit_search
from marketops.state.db import init_db, session_scope

CORPUS = {
    "lead-handoff": "---\ntitle: Lead handoff process\nowner: fran@acme.test\ntags: [sales, leads]\n---\n"
                    "# Lead handoff process\n## When an MQL is ready\nSales calls within one business hour.\n",
    "utm-conventions": "---\ntitle: UTM conventions\ntags: [utm]\n---\n# UTM conventions\nSources are lower case. "
                       "A lead from LinkedIn carries utm_source=linkedin.\n",
    "webinar": "# Webinar playbook\nPromote webinars two weeks before. Mention the lead handoff at the end? No.\n",
    "perche": "---\ntitle: Perché misuriamo la pipeline\ntags: [italia]\n---\nLa qualità dei lead è più importante "
              "della quantità. Città: Milano.\n",
    "otchet": "---\ntitle: Как мы считаем воронку\ntags: [russia]\n---\nЕжемесячный отчёт о воронке продаж: лиды, "
              "сделки, ВЫРУЧКА.\n",
}


@pytest.fixture
def corpus(tmp_path: Path) -> PlaybookIndex:
    folder = tmp_path / "playbooks"
    folder.mkdir()
    for slug, text in CORPUS.items():
        (folder / f"{slug}.md").write_text(text, encoding="utf-8")
    return PlaybookIndex(folder, tmp_path / ".marketops" / "index.sqlite")


def test_fts5_is_there():
    assert fts5_available()


def test_title_matches_rank_above_body_matches(corpus):
    hits = corpus.search("lead handoff")
    assert [h.slug for h in hits][:2] == ["lead-handoff", "webinar"]
    assert hits[0].score > hits[1].score


def test_accents_and_case_do_not_matter(corpus):
    assert [h.slug for h in corpus.search("PERCHE")] == ["perche"]
    assert [h.slug for h in corpus.search("qualita citta")] == ["perche"]
    assert [h.slug for h in corpus.search("Qualità")] == ["perche"]


def test_cyrillic_words_are_found_in_any_case(corpus):
    assert [h.slug for h in corpus.search("выручка")] == ["otchet"]
    assert [h.slug for h in corpus.search("ВОРОНКУ")] == ["otchet"]
    hit = corpus.search("отчёт")[0]
    assert "<mark>отчёт</mark>" in hit.snippet_html


def test_snippets_highlight_the_match_and_escape_html(tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "x.md").write_text("# X\nNever paste <script>alert(1)</script> into a UTM field.\n")
    hit = PlaybookIndex(folder, tmp_path / "i.sqlite").search("utm")[0]
    assert "<mark>UTM</mark>" in hit.snippet_html and "<script>" not in hit.snippet_html
    assert "&lt;script&gt;" in hit.snippet_html and "<mark>" not in hit.snippet


def test_no_word_in_common_falls_back_to_any_word(corpus):
    assert {h.slug for h in corpus.search("linkedin webinars")} == {"utm-conventions", "webinar"}
    assert corpus.search("zzz qqq") == []


def test_excluded_words_and_tags(corpus):
    assert "webinar" not in [h.slug for h in corpus.search("lead -webinars")]
    assert [h.slug for h in corpus.search("lead", tag="sales")] == ["lead-handoff"]


def test_index_follows_file_changes(corpus):
    assert corpus.search("pricing") == []
    (corpus.folder / "pricing.md").write_text("# Pricing page rules\n")
    assert [h.slug for h in corpus.search("pricing")] == ["pricing"]
    (corpus.folder / "pricing.md").unlink()
    assert corpus.search("pricing") == []
    counts = corpus.refresh()
    assert counts == {"added": 0, "updated": 0, "removed": 0}


@given(st.text(max_size=40))
def test_any_query_is_safe(query):
    expr = match_expression(query)
    assert expr is None or expr.count('"') % 2 == 0


def test_front_matter_problems_are_reported_with_the_line(tmp_path):
    p = pb.parse_playbook("---\ntitle: X\ntags: [a\n---\nbody", "x", file="playbooks/x.md")
    assert p.problem.startswith("playbooks/x.md:") and "not valid YAML" in p.problem
    assert pb.parse_playbook("---\ntitel: X\n---\n# Heading", "x").problem.endswith(
        "unknown front matter key 'titel' (did you mean 'title'?); valid: title, owner, tags, updated")


def test_saving_refuses_duplicates_and_path_tricks(tmp_path):
    folder = tmp_path / "playbooks"
    p = pb.save_playbook(folder, title="Brand guidelines: logo & colours", body="# Brand\n", tags="brand, Design",
                         owner="bea", today=dt.date(2026, 5, 1))
    assert (p.slug, p.tags, p.updated) == ("brand-guidelines-logo-colours", ["brand", "design"], dt.date(2026, 5, 1))
    assert pb.get_playbook(folder, p.slug).title == "Brand guidelines: logo & colours"
    with pytest.raises(ValidationFailed, match="already exists"):
        pb.save_playbook(folder, title="Brand guidelines: logo & colours", body="")
    with pytest.raises(ValidationFailed, match="cannot name a playbook"):
        pb.save_playbook(folder, title="x", body="", slug="../../etc/passwd")
    with pytest.raises(NotFound, match="did you mean 'brand-guidelines-logo-colours'"):
        pb.get_playbook(folder, "brand-guidelines-logo-colors")


# -- templates -------------------------------------------------------------------------------------------
@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    init_db(url)
    return url


def test_campaign_brief_creates_the_initiative_and_tasks_with_dates_and_dependencies(db):
    t = tpl.get_template(None, "campaign-brief")
    with session_scope(db) as s:
        result = tpl.use_template(s, t, start="2027-03-01", owner="fran@acme.test",
                                  values={"campaign": "Spring webinar series"}, actor="ana@acme.test")
        i = result.initiative
        assert (i.title, i.owner, i.status) == ("Spring webinar series", "fran@acme.test", "planned")
        assert (i.start_date, i.end_date) == (dt.date(2027, 3, 1), dt.date(2027, 4, 12))
        assert i.persona == "marketing operations leader"
        tasks = {t.title: t for t in list_tasks(s, initiative_id=i.id)}
        assert len(tasks) == 7
        brief = tasks["Write the campaign brief for Spring webinar series"]
        launch = tasks["Launch Spring webinar series"]
        assert (brief.start_date, brief.due_date) == (dt.date(2027, 3, 1), dt.date(2027, 3, 3))
        assert (launch.start_date, launch.due_date) == (dt.date(2027, 3, 18), dt.date(2027, 3, 19))
        assert sorted(d.title for d in launch.depends_on) == [
            "Build and test the landing page and form", "Build the UTM plan and tracking links",
            "Produce the creative (copy, visuals, ad sizes)"]
        assert all(t.owner == "fran@acme.test" for t in tasks.values())
        assert tpl.usage_counts(s) == {"campaign-brief": 1}
        assert tpl.created_from(s, i.id).values == {"campaign": "Spring webinar series",
                                                    "audience": "marketing operations leader",
                                                    "outcome": "they see which channels drive pipeline"}
        events, _ = audit_search(s, action="template.use")
        assert events[0].target == f"initiative:{i.id}"


@pytest.mark.parametrize("name,values", [("launch-checklist", {"product": "Acme Pulse"}),
                                         ("new-region-playbook", {"region": "DACH", "language": "German"})])
def test_every_builtin_template_can_be_used(db, name, values):
    with session_scope(db) as s:
        result = tpl.use_template(s, tpl.get_template(None, name), start=dt.date(2027, 1, 4), owner="Bo",
                                  values=values, actor="cli")
        assert len(result.tasks) == len(tpl.get_template(None, name).tasks)
        assert all(t.due_date >= t.start_date >= dt.date(2027, 1, 4) for t in result.tasks)
        assert all(d.due_date <= t.start_date or d.due_date <= t.due_date for t in result.tasks for d in t.depends_on)


def test_missing_and_unknown_values_are_refused_before_anything_is_written(db):
    t = tpl.get_template(None, "campaign-brief")
    with pytest.raises(ValidationFailed, match="needs a value for 'campaign' \\(Campaign name\\)"):
        tpl.plan_from_template(t, start="2027-03-01", owner="fran", values={})
    with pytest.raises(ValidationFailed, match="no placeholder 'campain' \\(did you mean 'campaign'\\?\\)"):
        tpl.plan_from_template(t, start="2027-03-01", owner="fran", values={"campain": "x"})
    with pytest.raises(ValidationFailed, match="start date must be a date"):
        tpl.plan_from_template(t, start="next monday", owner="fran", values={"campaign": "x"})


def test_workspace_templates_override_and_report_errors_with_file_and_line(tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "campaign-brief.yaml").write_text(
        "title: Our brief\ninitiative:\n  story: As a CMO, I want {campaign}, so that we grow\n"
        "placeholders:\n  campaign: {label: Name}\ntasks:\n  - key: a\n    title: Do {campaign}\n    due: 1\n")
    (folder / "broken.yaml").write_text(
        "title: Broken\ninitiative:\n  story: As a x, I want y, so that z\ntasks:\n"
        "  - {key: a, title: A, due: 2}\n  - {key: b, title: B, due: 3, depends_on: [c]}\n")
    found = tpl.load_templates(folder, tmp_path)
    assert found.templates["campaign-brief"].title == "Our brief"
    assert "launch-checklist" in found.templates
    assert found.problems == ["templates/broken.yaml:6: tasks.1.depends_on: task 'b' depends on 'c', which is "
                              "not a task of the template"]
    with pytest.raises(ConfigError, match="broken.yaml:6"):
        tpl.get_template(folder, "broken", tmp_path)


def test_cycles_and_unknown_placeholders_are_config_errors():
    with pytest.raises(ConfigError, match="circular dependency: a -> b -> a"):
        tpl.parse_template("title: T\ninitiative: {story: 'As a x, I want y, so that z'}\ntasks:\n"
                           "  - {key: a, title: A, due: 1, depends_on: [b]}\n"
                           "  - {key: b, title: B, due: 1, depends_on: [a]}\n", "t", "t.yaml")
    with pytest.raises(ConfigError, match=r"t.yaml:3: .*'\{regoin\}'.*did you mean 'region'"):
        tpl.parse_template("title: T\nplaceholders: {region: {}}\ninitiative: {story: 'As a x in {regoin}, I want "
                           "y, so that z'}\ntasks:\n  - {key: a, title: A, due: 1}\n", "t", "t.yaml")


# -- assets -------------------------------------------------------------------------------------------------
TODAY = dt.date(2026, 6, 1)


@pytest.mark.parametrize("expires,status", [(None, "ok"), (dt.date(2026, 5, 31), "expired"),
                                            (TODAY, "expiring"), (dt.date(2026, 7, 1), "expiring"),
                                            (dt.date(2026, 7, 2), "ok")])
def test_expiry_states(expires, status):
    assert reg.expiry_status(expires, today=TODAY, days=30) == status


@given(st.dates(), st.dates(), st.integers(0, 400))
def test_expiry_status_is_monotonic_in_time(expires, today, days):
    # Rights only get worse as days pass: ok -> expiring -> expired, never back.
    rank = {"ok": 0, "expiring": 1, "expired": 2}
    later = min(today + dt.timedelta(days=1), dt.date.max)
    assert rank[reg.expiry_status(expires, today=later, days=days)] >= rank[reg.expiry_status(expires, today=today,
                                                                                              days=days)]


def test_register_lists_expired_first_and_filters(db):
    with session_scope(db) as s:
        reg.create_asset(s, name="Logo", type="logo", tags="brand", owner="Bea", actor="a")
        reg.create_asset(s, name="Hero photo", type="image", tags=["Brand", "web"], expires_on="2026-05-01",
                         usage_rights="Web only", actor="a")
        reg.create_asset(s, name="Webinar video", type="video", expires_on="2026-06-20", owner="Bea", actor="a")
        names = [a.name for a in reg.list_assets(s, today=TODAY)]
        assert names == ["Hero photo", "Webinar video", "Logo"]
        assert [a.name for a in reg.list_assets(s, tag="brand", today=TODAY)] == ["Hero photo", "Logo"]
        assert [a.name for a in reg.list_assets(s, owner="bea", status="expiring", today=TODAY)] == ["Webinar video"]
        assert [a.name for a in reg.expiring_assets(s, today=TODAY, days=10)] == ["Hero photo"]
        alerts = reg.asset_alerts(s, TODAY, 30)
        assert [(a.severity, a.status, a.link) for a in alerts] == [("critical", "expired", "/assets/2"),
                                                                    ("warning", "expiring", "/assets/3")]
        with pytest.raises(ValidationFailed, match="did you mean 'image'"):
            reg.create_asset(s, name="x", type="imgae", actor="a")
        with pytest.raises(ValidationFailed, match="expiry date must be a date"):
            reg.update_asset(s, 1, {"expires_on": "31/12/2026"}, actor="a")
        reg.update_asset(s, 1, {"expires_on": "2026-06-05"}, actor="a")
        events, _ = audit_search(s, action="asset.update")
        assert events[0].detail == {"changes": {"expires_on": {"from": None, "to": "2026-06-05"}}}
