"""The review queue of uncertain identity matches and merge decisions: the domain functions, the
`marketops review` commands and the `/api/v1/review` API, on a workspace whose warehouse holds
``identity_pairs`` and ``identity_map`` as the resolver publishes them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, text
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from marketops.errors import NotFound
from marketops.quality import review as rv
from marketops.quality.decisions import Decisions
from marketops.state.db import dispose, init_db, make_engine, session_scope
from marketops.state.models import AuditEvent, Base, MergeDecision, utcnow
from marketops.state.tokens import create_token
from marketops.state.users import create_user, get_user
from marketops.workspace import Workspace
from tests.app_fixtures import (  # noqa: F401  (fixtures are used by name)
    EMAILS,
    PASSWORDS,
    app,
    clean_env,
    client,
    csrf_from,
    login_as,
    make_workspace,
    users,
)
from tests.test_app_database import postgres_url  # noqa: F401  (fixture used by name)

# -- a resolved workspace ------------------------------------------------------------------------------
#: record_key -> (first, last, email, phone, company, city, person_id)
RECORDS = {
    "crm:1": ("Ann", "Lee", "ann@acme.io", "+39021234567", "Acme", "Milan", "P1"),
    "web:1": ("Anne", "Lee", "ann@acme.io", None, "Acme Srl", "Milano", "P1"),
    "sf:1": ("Ann", "Lee", "a.lee@acme.io", "+39021234567", "ACME", "Milan", "P1"),
    "crm:2": ("Bo", "Kim", "bo@kim.io", None, "Kim & Co", "Oslo", "P2"),
    "crm:3": ("Cy", "Roe", "cy@roe.io", "+4722334455", "Roe AS", "Oslo", "P3"),
    "web:3": ("Cy", "Row", "cy@roe.io", None, None, "Oslo", "P3"),
}
#: (record_key_l, record_key_r, match_probability, status); web:1 / sf:1 is stored unsorted on purpose.
PAIRS = [
    ("crm:1", "web:1", 0.99, "merged"),
    ("crm:1", "sf:1", 0.85, "review"),
    ("crm:2", "web:3", 0.60, "review"),
    ("crm:3", "web:3", 0.97, "merged"),
    ("crm:2", "crm:3", 0.05, "rejected"),
    ("web:1", "sf:1", 0.72, "review"),
]
FIELDS = ("first_name", "last_name", "email", "phone", "company", "city")


def pid(a: str, b: str) -> str:
    """A stable hash of the sorted pair, as the resolver makes pair ids."""
    return hashlib.sha256("|".join(sorted((a, b))).encode()).hexdigest()[:16]


def _evidence(a: str, b: str) -> str:
    left, right = RECORDS[a], RECORDS[b]
    out = []
    for i, column in enumerate(("first_name", "email", "phone")):
        idx = FIELDS.index(column)
        lv, rv_ = left[idx], right[idx]
        if lv is None or rv_ is None:
            level, bf = "null", 1.0
        elif lv == rv_:
            level, bf = "exact match", 2.0 ** (8 - i)
        else:
            level, bf = "all other comparisons", 0.25
        weight = {1.0: 0.0, 0.25: -2.0}.get(bf, 8.0 - i)
        out.append({"column": column, "left": lv, "right": rv_, "level": level, "bayes_factor": bf,
                    "match_weight": weight})
    return json.dumps(out)


def write_identity(ws: Workspace, run_id: str = "r1", pairs=PAIRS, records=RECORDS) -> None:
    """Publish identity_pairs and identity_map for ``run_id`` as the resolver would."""
    cols: dict[str, list] = {c: [] for c in ("pair_id", "record_key_l", "record_key_r", "match_probability",
                                            "match_weight", "status", "evidence")}
    for side in ("l", "r"):
        for f in FIELDS:
            cols[f"{f}_{side}"] = []
    for a, b, p, status in pairs:
        cols["pair_id"].append(pid(a, b))
        cols["record_key_l"].append(a)
        cols["record_key_r"].append(b)
        cols["match_probability"].append(p)
        cols["match_weight"].append(round(p * 10 - 5, 2))
        cols["status"].append(status)
        cols["evidence"].append(_evidence(a, b))
        for side, key in (("l", a), ("r", b)):
            for i, f in enumerate(FIELDS):
                cols[f"{f}_{side}"].append(records[key][i])
    ws.engine.write(f"identity_pairs__{run_id}", pa.table(cols))
    keys = sorted(records)
    ws.engine.write(f"identity_map__{run_id}", pa.table({
        "record_key": keys, "source_system": [k.split(":")[0] for k in keys],
        "record_id": [k.split(":")[1] for k in keys], "email": [records[k][2] for k in keys],
        "person_id": [records[k][6] for k in keys], "match_probability": [1.0] * len(keys),
        "match_rule": ["email"] * len(keys)}))
    ws.engine.publish({"identity_pairs": f"identity_pairs__{run_id}", "identity_map": f"identity_map__{run_id}"},
                      run_id)


@pytest.fixture
def rws(tmp_path: Path, clean_env):
    """A workspace resolved once (run r1), its app database on SQLite in the workspace."""
    ws = Workspace.init(tmp_path / "acme")
    write_identity(ws)
    init_db(ws.app_database_url)
    yield ws
    ws.close()
    dispose(ws.app_database_url)


def events(ws: Workspace, prefix: str = "identity.") -> list[AuditEvent]:
    with session_scope(ws.app_database_url) as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action.like(prefix + "%"))
                              .order_by(AuditEvent.id)))


def queue_ids(ws: Workspace, **kw) -> list[str]:
    return [item.pair_id for item in rv.review_queue(ws, **kw)]


# -- the queue ------------------------------------------------------------------------------------------
def test_queue_lists_review_pairs_most_probable_first_with_evidence(rws):
    items = rv.review_queue(rws)
    assert [(i.record_keys, i.match_probability) for i in items] == [
        (("crm:1", "sf:1"), 0.85), (("web:1", "sf:1"), 0.72), (("crm:2", "web:3"), 0.60)]
    first = items[0]
    assert first.run_id == "r1" and first.status == "review" and first.decision is None
    assert first.left == {"record_key": "crm:1", "first_name": "Ann", "last_name": "Lee", "email": "ann@acme.io",
                          "phone": "+39021234567", "company": "Acme", "city": "Milan"}
    assert first.right["email"] == "a.lee@acme.io"
    assert [(e.column, e.level, e.verdict) for e in first.evidence] == [
        ("first_name", "exact match", "agree"), ("email", "all other comparisons", "disagree"),
        ("phone", "exact match", "agree")]
    assert first.evidence[0].bayes_factor == 256.0 and first.evidence[1].match_weight == -2.0
    assert rv.queue_size(rws) == 3


def test_queue_pages_and_filters(rws):
    assert queue_ids(rws, limit=1, offset=1) == [pid("web:1", "sf:1")]
    assert queue_ids(rws, min_probability=0.7) == [pid("crm:1", "sf:1"), pid("web:1", "sf:1")]
    assert queue_ids(rws, max_probability=0.7) == [pid("crm:2", "web:3")]
    assert rv.queue_size(rws, min_probability=0.8) == 1
    page = rv.review_page(rws, limit=2)
    assert (len(page.items), page.total, page.run_id, page.resolved) == (2, 3, "r1", True)
    with pytest.raises(rv.InvalidDecision, match="between 0 and 1"):
        rv.review_queue(rws, min_probability=1.5)


def test_queue_is_empty_before_identity_resolution_ran(ws, clean_env):
    assert rv.review_queue(ws) == [] and rv.queue_size(ws) == 0
    assert rv.review_page(ws).resolved is False
    with pytest.raises(NotFound, match="has not run yet"):
        rv.get_item(ws, "abcdef123")
    with pytest.raises(NotFound, match="no identity map yet"):
        rv.split(ws, "crm:1", "ana@acme.test")
    assert rv.load_decisions(ws) == Decisions()


def test_queue_shows_the_newest_run(rws):
    rv.accept(rws, pid("crm:1", "sf:1"), "ana@acme.test")
    # The next run finds the same uncertain pair again plus a new one: the decision still holds.
    write_identity(rws, "r2", PAIRS + [("sf:1", "crm:2", 0.55, "review")])
    items = rv.review_queue(rws)
    assert {i.run_id for i in items} == {"r2"}
    assert [i.record_keys for i in items] == [("web:1", "sf:1"), ("crm:2", "web:3"), ("sf:1", "crm:2")]


def test_get_item_by_full_or_short_id(rws):
    full = pid("crm:2", "web:3")
    item = rv.get_item(rws, full[:8])
    assert item.pair_id == full and item.record_keys == ("crm:2", "web:3")
    merged = rv.get_item(rws, pid("crm:1", "web:1"))
    assert merged.status == "merged"  # any status can be looked at (and decided)
    with pytest.raises(NotFound, match="no identity pair 'nope' in the newest run") as e:
        rv.get_item(rws, "nope")
    assert "marketops review list" in e.value.hint


def test_an_ambiguous_short_id_is_refused(tmp_path, clean_env):
    ws = Workspace.init(tmp_path / "amb")
    ws.engine.write("identity_pairs__r1", pa.table({
        "pair_id": ["abcdef01", "abcdef02"], "record_key_l": ["a:1", "a:2"], "record_key_r": ["b:1", "b:2"],
        "match_probability": [0.5, 0.6], "match_weight": [0.0, 0.1], "status": ["review", "review"],
        "evidence": ["not json", None]}))
    ws.engine.publish({"identity_pairs": "identity_pairs__r1"}, "r1")
    try:
        with pytest.raises(NotFound, match="ambiguous"):
            rv.get_item(ws, "abcdef")
        # Broken evidence and missing display columns do not stop the queue.
        assert [(i.pair_id, i.evidence, i.left) for i in rv.review_queue(ws)] == [
            ("abcdef02", (), {"record_key": "a:2"}), ("abcdef01", (), {"record_key": "a:1"})]
    finally:
        ws.close()
        dispose(ws.app_database_url)


def test_infinite_evidence_reads_as_agreement_and_stays_valid_json(tmp_path, clean_env):
    ws = Workspace.init(tmp_path / "inf")
    evidence = json.dumps([{"column": "email", "left": "a@x.io", "right": "a@x.io", "level": "exact match",
                            "bayes_factor": float("inf"), "match_weight": float("inf")}])
    ws.engine.write("identity_pairs__r1", pa.table({
        "pair_id": ["abcdef01"], "record_key_l": ["a:1"], "record_key_r": ["b:1"], "match_probability": [1.0],
        "match_weight": [float("inf")], "status": ["review"], "evidence": [evidence]}))
    ws.engine.publish({"identity_pairs": "identity_pairs__r1"}, "r1")
    try:
        (item,) = rv.review_queue(ws)
        assert item.evidence[0].verdict == "agree"
        data = json.loads(json.dumps(item.to_json(), allow_nan=False))
        assert data["match_weight"] is None and data["evidence"][0]["bayes_factor"] is None
    finally:
        ws.close()
        dispose(ws.app_database_url)


# -- deciding ------------------------------------------------------------------------------------------
def test_accept_stores_an_always_decision_and_audits_it(rws):
    pair_id = pid("web:1", "sf:1")
    outcome = rv.accept(rws, pair_id, "ana@acme.test", note="  same phone  ", ip="10.0.0.7")
    assert outcome.action == "accept" and outcome.effective == "next_run"
    assert "takes effect at the next pipeline run" in outcome.message
    (d,) = outcome.created
    # Stored sorted, whatever order the resolver wrote the pair in.
    assert (d.record_key_a, d.record_key_b, d.decision, d.origin) == ("sf:1", "web:1", "always", "review_accept")
    assert (d.pair_id, d.match_probability, d.note, d.decided_by) == (pair_id, 0.72, "same phone", "ana@acme.test")
    assert rv.load_decisions(rws) == Decisions.of(always=[("web:1", "sf:1")])
    assert pair_id not in queue_ids(rws)
    assert rv.get_item(rws, pair_id).decision == d
    (event,) = events(rws)
    assert (event.actor, event.action, event.target, event.ip) == ("ana@acme.test", "identity.accept",
                                                                   f"decision:{d.id}", "10.0.0.7")
    assert event.detail == {"record_key_a": "sf:1", "record_key_b": "web:1", "decision": "always",
                            "origin": "review_accept", "pair_id": pair_id, "match_probability": 0.72,
                            "note": "same phone", "run_id": "r1"}


def test_reject_stores_a_never_decision(rws):
    outcome = rv.reject(rws, pid("crm:2", "web:3"), "bo@acme.test")
    assert [(d.decision, d.origin, d.note) for d in outcome.created] == [("never", "review_reject", None)]
    assert rv.load_decisions(rws).is_never("web:3", "crm:2")
    assert [e.action for e in events(rws)] == ["identity.reject"]


def test_deciding_twice_changes_nothing_and_the_opposite_needs_a_revoke(rws):
    pair_id = pid("crm:1", "sf:1")
    first = rv.reject(rws, pair_id, "ana@acme.test")
    again = rv.reject(rws, pair_id, "bo@acme.test")
    assert again.created == () and again.unchanged == first.created and "nothing changed" in again.message
    with pytest.raises(rv.DecisionConflict, match="already have a 'never merge' decision") as e:
        rv.accept(rws, pair_id, "bo@acme.test")
    assert f"marketops review revoke {first.created[0].id}" in e.value.hint
    assert [e.action for e in events(rws)] == ["identity.reject"]


def test_accepted_then_revoked_pair_goes_back_to_the_queue(rws):
    pair_id = pid("crm:1", "sf:1")
    decision = rv.accept(rws, pair_id, "ana@acme.test").created[0]
    assert pair_id not in queue_ids(rws)
    outcome = rv.revoke(rws, decision.id, "bo@acme.test", ip="10.0.0.8")
    assert outcome.removed == (decision,) and "next pipeline run" in outcome.message
    assert queue_ids(rws)[0] == pair_id
    assert rv.load_decisions(rws) == Decisions() and rv.list_decisions(rws) == []
    revoked = events(rws)[-1]
    assert (revoked.actor, revoked.action, revoked.target) == ("bo@acme.test", "identity.revoke",
                                                              f"decision:{decision.id}")
    assert revoked.detail["decision"] == "always" and revoked.detail["decided_by"] == "ana@acme.test"
    with pytest.raises(NotFound, match=f"no merge decision with id {decision.id}"):
        rv.revoke(rws, decision.id, "bo@acme.test")


def test_split_never_merges_a_record_with_every_other_member(rws):
    # An earlier "always" between two members is replaced: the split is the newer, explicit wish.
    rv.accept(rws, pid("crm:1", "sf:1"), "ana@acme.test")
    outcome = rv.split(rws, "crm:1", "bo@acme.test", note="two people share the phone")
    assert outcome.action == "split" and "next pipeline run" in outcome.message
    assert sorted((d.record_key_a, d.record_key_b, d.decision, d.origin) for d in outcome.created) == [
        ("crm:1", "sf:1", "never", "split"), ("crm:1", "web:1", "never", "split")]
    assert [(d.record_key_a, d.record_key_b, d.decision) for d in outcome.removed] == [("crm:1", "sf:1", "always")]
    # Pairs the resolver scored keep their id and probability with the decision.
    by_pair = {(d.record_key_a, d.record_key_b): d for d in outcome.created}
    assert (by_pair["crm:1", "web:1"].pair_id, by_pair["crm:1", "web:1"].match_probability) == \
        (pid("crm:1", "web:1"), 0.99)
    assert rv.load_decisions(rws) == Decisions.of(never=[("crm:1", "web:1"), ("crm:1", "sf:1")])
    actions = [e.action for e in events(rws)]
    assert actions == ["identity.accept", "identity.revoke", "identity.split", "identity.split"]
    assert all(e.detail["split_record"] == "crm:1" and e.detail["person_id"] == "P1" for e in events(rws)[2:])
    # Splitting again changes nothing.
    again = rv.split(rws, "crm:1", "bo@acme.test")
    assert again.created == () and len(again.unchanged) == 2 and "nothing changed" in again.message


def test_split_of_a_lone_record_or_an_unknown_one(rws):
    alone = rv.split(rws, "crm:2", "bo@acme.test")
    assert alone.created == () and "not merged with any other record" in alone.message
    with pytest.raises(NotFound, match="no source record 'crm:99'") as e:
        rv.split(rws, "crm:99", "bo@acme.test")
    assert "identity_map" in e.value.hint
    assert events(rws) == []


def test_merge_joins_two_records_by_hand(rws):
    outcome = rv.merge(rws, "crm:3", "crm:2", "ana@acme.test", note="same customer, new company")
    (d,) = outcome.created
    assert (d.record_key_a, d.record_key_b, d.decision, d.origin) == ("crm:2", "crm:3", "always", "manual")
    assert (d.pair_id, d.match_probability) == (pid("crm:2", "crm:3"), 0.05)
    assert events(rws)[0].action == "identity.merge"
    no_pair = rv.merge(rws, "crm:2", "sf:1", "ana@acme.test").created[0]
    assert (no_pair.pair_id, no_pair.match_probability) == (None, None)
    with pytest.raises(rv.InvalidDecision, match="one record"):
        rv.merge(rws, "crm:2", "crm:2", "ana@acme.test")
    with pytest.raises(NotFound, match="no source record 'zz:1'"):
        rv.merge(rws, "crm:2", "zz:1", "ana@acme.test")
    rv.reject(rws, pid("crm:2", "web:3"), "ana@acme.test")
    with pytest.raises(rv.DecisionConflict):
        rv.merge(rws, "web:3", "crm:2", "ana@acme.test")


def test_a_decision_taken_at_the_same_moment_is_a_conflict(rws, monkeypatch):
    rv.reject(rws, pid("crm:1", "sf:1"), "ana@acme.test")
    # Another reviewer's decision lands between our read and our write.
    with monkeypatch.context() as m:
        m.setattr(rv, "_find", lambda session, a, b: None)
        with pytest.raises(rv.DecisionConflict, match="at the same moment"):
            rv.accept(rws, pid("crm:1", "sf:1"), "bo@acme.test")
    assert [d.decision for d in rv.list_decisions(rws)] == ["never"]
    assert [e.action for e in events(rws)] == ["identity.reject"]


def test_notes_are_kept_verbatim_but_bounded(rws):
    hostile = "<script>alert(1)</script>'; DROP TABLE merge_decisions; --"
    d = rv.reject(rws, pid("crm:2", "web:3"), "ana@acme.test", note=hostile).created[0]
    assert rv.list_decisions(rws)[0].note == hostile == d.note
    with pytest.raises(rv.InvalidDecision, match="keep it under 2000"):
        rv.accept(rws, pid("crm:1", "sf:1"), "ana@acme.test", note="x" * 2001)
    with pytest.raises(rv.InvalidDecision, match="actor"):
        rv.accept(rws, pid("crm:1", "sf:1"), "  ")
    assert rv.count_decisions(rws) == 1


def test_list_and_count_decisions(rws):
    rv.accept(rws, pid("crm:1", "sf:1"), "ana@acme.test")
    rv.reject(rws, pid("crm:2", "web:3"), "ana@acme.test")
    rv.merge(rws, "crm:2", "crm:3", "ana@acme.test")
    newest_first = [(d.record_key_a, d.decision) for d in rv.list_decisions(rws)]
    assert newest_first == [("crm:2", "always"), ("crm:2", "never"), ("crm:1", "always")]
    assert [d.decision for d in rv.list_decisions(rws, decision="never")] == ["never"]
    assert [d.record_key_b for d in rv.list_decisions(rws, record_key="crm:2")] == ["crm:3", "web:3"]
    assert [d.record_key_a for d in rv.list_decisions(rws, limit=1, offset=1)] == ["crm:2"]
    assert (rv.count_decisions(rws), rv.count_decisions(rws, decision="always"),
            rv.count_decisions(rws, record_key="sf:1")) == (3, 2, 1)
    with pytest.raises(rv.InvalidDecision, match="'always' or 'never'"):
        rv.list_decisions(rws, decision="maybe")


# -- persistence, on both app-database backends ------------------------------------------------------------
@pytest.fixture(params=["sqlite", "postgresql"])
def backend_ws(request, tmp_path, clean_env, monkeypatch):
    """A resolved workspace whose app database is SQLite in the workspace, or PostgreSQL."""
    url = None
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url")
        monkeypatch.setenv("MARKETOPS_DATABASE_URL", url)
    ws = Workspace.init(tmp_path / "acme")
    write_identity(ws)
    ws.close()
    yield tmp_path / "acme"
    if url:
        with make_engine(url).begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(delete(table))
    else:
        dispose()


def test_decisions_persist_across_reopening_the_workspace(backend_ws, request):
    with Workspace.open(backend_ws) as ws:
        assert ws.app_database_url.startswith(request.node.callspec.params["backend_ws"])
        rv.accept(ws, pid("crm:1", "sf:1"), "ana@acme.test")
        rv.split(ws, "crm:3", "ana@acme.test")
    with Workspace.open(backend_ws, read_only=True) as ws:
        assert rv.load_decisions(ws) == Decisions.of(always=[("crm:1", "sf:1")], never=[("crm:3", "web:3")])
        assert queue_ids(ws) == [pid("web:1", "sf:1"), pid("crm:2", "web:3")]
        assert [e.action for e in events(ws)] == ["identity.accept", "identity.split"]
        with session_scope(ws.app_database_url) as s:
            stored = s.scalar(select(MergeDecision).where(MergeDecision.decision == "always"))
            assert stored.decided_at.utcoffset() is not None
    # The schema itself refuses a second decision on a pair and unknown decisions.
    insert = text("INSERT INTO merge_decisions (record_key_a, record_key_b, decision, origin, decided_by, "
                  "decided_at) VALUES (:a, :b, :d, 'manual', 'sql', :at)")
    with make_engine(ws.app_database_url).connect() as conn:
        for bad in ({"a": "crm:1", "b": "sf:1", "d": "never"}, {"a": "x:1", "b": "x:2", "d": "maybe"},
                    {"a": "x:1", "b": "x:1", "d": "never"}):
            nested = conn.begin_nested()
            with pytest.raises(IntegrityError):
                conn.execute(insert, {**bad, "at": utcnow()})
            nested.rollback()
        conn.rollback()


# -- the queue and the decisions never overlap --------------------------------------------------------
REVIEW_PAIRS = [(a, b) for a, b, _, status in PAIRS if status == "review"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(REVIEW_PAIRS), st.sampled_from(["accept", "reject", "revoke"])),
                max_size=6))
def test_queue_is_review_pairs_without_a_decision(rws, steps):
    with session_scope(rws.app_database_url) as s:
        s.execute(delete(MergeDecision))
    expected: dict[tuple[str, str], str] = {}
    for (a, b), op in steps:
        key = tuple(sorted((a, b)))
        if op == "revoke":
            found = rv.list_decisions(rws, record_key=a)
            for d in found:
                if (d.record_key_a, d.record_key_b) == key:
                    rv.revoke(rws, d.id, "prop@acme.test")
            expected.pop(key, None)
            continue
        wanted = "always" if op == "accept" else "never"
        try:
            getattr(rv, op)(rws, pid(a, b), "prop@acme.test")
            expected[key] = wanted
        except rv.DecisionConflict:
            assert expected[key] != wanted
    decisions = rv.load_decisions(rws)
    assert decisions == Decisions.of(always=[k for k, v in expected.items() if v == "always"],
                                     never=[k for k, v in expected.items() if v == "never"])
    assert set(queue_ids(rws)) == {pid(a, b) for a, b in REVIEW_PAIRS if tuple(sorted((a, b))) not in expected}


# -- the command line ---------------------------------------------------------------------------------
runner = CliRunner()


@pytest.fixture
def cli_app():
    # The group alone: the behaviour of `review` does not depend on the other command groups.
    from marketops.cli import review

    root = typer.Typer()
    root.add_typer(review.app, name="review")
    return root


@pytest.fixture
def cli(rws, cli_app):
    root = str(rws.root)
    rws.close()  # the commands open the workspace themselves

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(cli_app, ["review", *args, "-w", root], input=input)

    return invoke


def test_cli_list_shows_both_records_and_the_evidence(cli):
    result = cli("list")
    assert result.exit_code == 0, result.output
    for shown in (pid("crm:1", "sf:1")[:12], "0.850", "a.lee@acme.io", "Kim & Co", "email: all other", "of 3"):
        assert shown in result.output, shown
    data = json.loads(cli("list", "--json", "--limit", "1", "--min", "0.7").output)
    assert (data["total"], data["limit"], data["run_id"]) == (2, 1, "r1")
    assert data["items"][0]["pair_id"] == pid("crm:1", "sf:1")
    assert data["items"][0]["evidence"][1]["verdict"] == "disagree"


def test_cli_show_accept_decisions_and_revoke(cli, rws):
    pair_id = pid("crm:1", "sf:1")
    shown = cli("show", pair_id[:8])
    assert shown.exit_code == 0 and "a.lee@acme.io" in shown.output and "No decision yet." in shown.output
    accepted = cli("accept", pair_id[:8], "--note", "checked in the CRM")
    assert accepted.exit_code == 0, accepted.output
    assert "always merge crm:1 and sf:1" in accepted.output and "next pipeline run" in accepted.output
    listed = json.loads(cli("decisions", "--json").output)
    assert [(d["decision"], d["origin"], d["note"]) for d in listed] == [("always", "review_accept",
                                                                         "checked in the CRM")]
    assert listed[0]["decided_by"].startswith("cli:")
    assert "Decision" in cli("show", pair_id).output
    assert pair_id not in cli("list", "--json").output
    table = cli("decisions").output
    assert "accepted" in table and "crm:1" in table and "always" in table
    revoked = cli("revoke", str(listed[0]["id"]))
    assert revoked.exit_code == 0 and "Revoked" in revoked.output
    assert json.loads(cli("list", "--json").output)["items"][0]["pair_id"] == pair_id
    assert [e.action for e in events(rws)] == ["identity.accept", "identity.revoke"]


def test_cli_reject_split_merge(cli):
    rejected = json.loads(cli("reject", pid("crm:2", "web:3"), "--json").output)
    assert rejected["created"][0]["decision"] == "never" and rejected["effective"] == "next_run"
    split = cli("split", "crm:1")
    assert split.exit_code == 0 and "never merged with the 2 other record(s) of person P1" in split.output
    merged = cli("merge", "crm:2", "crm:3", "--note", "same buyer")
    assert merged.exit_code == 0 and "always merge crm:2 and crm:3" in merged.output
    assert len(json.loads(cli("decisions", "--json", "--decision", "never").output)) == 3


def test_cli_errors_are_plain_sentences(cli):
    unknown = cli("accept", "nope")
    assert unknown.exit_code == 1 and "no identity pair 'nope'" in unknown.output
    assert "Traceback" not in unknown.output
    assert "no source record 'crm:99'" in cli("split", "crm:99").output
    cli("reject", pid("crm:1", "sf:1"))
    conflict = cli("accept", pid("crm:1", "sf:1"))
    assert conflict.exit_code == 1 and "marketops review revoke" in conflict.output
    assert "no merge decision with id 999" in cli("revoke", "999").output


def test_cli_acts_as_a_named_user(cli, rws):
    with session_scope(rws.app_database_url) as s:
        create_user(s, "ed@acme.test", "ed's long password", role="editor")
        create_user(s, "vi@acme.test", "vi's long password", role="viewer")
    assert cli("accept", pid("crm:1", "sf:1"), "--as", "Ed@Acme.test").exit_code == 0
    assert events(rws)[-1].actor == "ed@acme.test"
    viewer = cli("reject", pid("crm:2", "web:3"), "--as", "vi@acme.test")
    assert viewer.exit_code == 1 and "need the editor or admin role" in viewer.output
    ghost = cli("reject", pid("crm:2", "web:3"), "--as", "ghost@acme.test")
    assert ghost.exit_code == 1 and "no active web-app user" in ghost.output


def test_cli_before_the_first_run(tmp_path, clean_env, cli_app):
    root = make_workspace(tmp_path / "fresh")
    result = runner.invoke(cli_app, ["review", "list", "-w", str(root)])
    assert result.exit_code == 0 and "run the pipeline first" in result.output
    dispose()


def test_cli_review_is_a_marketops_command():
    from marketops.cli.main import app as marketops

    assert "review" in [group.name for group in marketops.registered_groups]


# -- the API ------------------------------------------------------------------------------------------
@pytest.fixture
def workspace_root(tmp_path: Path, clean_env) -> Path:
    """The app fixtures' workspace, resolved once (overrides tests.app_fixtures.workspace_root)."""
    root = make_workspace(tmp_path / "acme")
    with Workspace.open(root) as ws:
        write_identity(ws)
    return root


def _csrf(client) -> dict[str, str]:
    return {"X-CSRF-Token": csrf_from(client.get("/").text)}


def _token(app, role: str, scopes: list[str]) -> dict[str, str]:
    with session_scope(app.state.database_url) as s:
        _, secret = create_token(s, get_user(s, EMAILS[role]), "script", scopes)
    return {"Authorization": f"Bearer {secret}"}


def _app_events(app) -> list[AuditEvent]:
    with session_scope(app.state.database_url) as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action.like("identity.%"))
                              .order_by(AuditEvent.id)))


def test_api_refuses_anonymous_requests(client):
    pair_id = pid("crm:1", "sf:1")
    for method, path in (("GET", "/api/v1/review"), ("GET", f"/api/v1/review/{pair_id}"),
                         ("POST", f"/api/v1/review/{pair_id}/accept"), ("GET", "/api/v1/review/decisions"),
                         ("DELETE", "/api/v1/review/decisions/1"), ("POST", "/api/v1/review/split")):
        response = client.request(method, path)
        assert response.status_code == 401, (method, path)
        assert response.json()["error"]["code"] == "not_authenticated"


def test_api_lists_the_queue_with_pagination(client, users):
    login_as(client, "viewer")
    data = client.get("/api/v1/review", params={"limit": 2}).json()
    assert (data["total"], data["limit"], data["offset"], data["run_id"]) == (3, 2, 0, "r1")
    assert [i["pair_id"] for i in data["items"]] == [pid("crm:1", "sf:1"), pid("web:1", "sf:1")]
    item = data["items"][0]
    assert item["left"]["record_key"] == "crm:1" and item["right"]["email"] == "a.lee@acme.io"
    assert item["evidence"][0] == {"column": "first_name", "left": "Ann", "right": "Ann", "level": "exact match",
                                   "bayes_factor": 256.0, "match_weight": 8.0, "verdict": "agree"}
    rest = client.get("/api/v1/review", params={"limit": 2, "offset": 2}).json()
    assert [i["pair_id"] for i in rest["items"]] == [pid("crm:2", "web:3")]
    assert client.get("/api/v1/review", params={"min_probability": 0.8}).json()["total"] == 1
    one = client.get(f"/api/v1/review/{pid('crm:2', 'web:3')[:10]}").json()
    assert one["pair_id"] == pid("crm:2", "web:3") and one["decision"] is None
    bad = client.get("/api/v1/review", params={"limit": 0})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"


def test_api_viewer_cannot_decide(client, users):
    login_as(client, "viewer")
    response = client.post(f"/api/v1/review/{pid('crm:1', 'sf:1')}/accept", headers=_csrf(client))
    assert response.status_code == 403
    assert response.json()["error"] == {"code": "forbidden", "message": "this needs the editor role; you are viewer"}
    assert client.delete("/api/v1/review/decisions/1", headers=_csrf(client)).status_code == 403


def test_api_editor_accepts_a_pair(app, client, users):
    login_as(client, "editor")
    pair_id = pid("crm:1", "sf:1")
    no_csrf = client.post(f"/api/v1/review/{pair_id}/accept")
    assert no_csrf.status_code == 403 and "CSRF" in no_csrf.json()["error"]["message"]
    response = client.post(f"/api/v1/review/{pair_id}/accept", json={"note": "same phone"}, headers=_csrf(client))
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["action"] == "accept" and data["effective"] == "next_run" and "next pipeline run" in data["message"]
    decision = data["created"][0]
    assert (decision["record_key_a"], decision["record_key_b"], decision["decision"], decision["decided_by"]) == \
        ("crm:1", "sf:1", "always", EMAILS["editor"])
    with session_scope(app.state.database_url) as s:
        stored = s.scalars(select(MergeDecision)).all()
        assert [(d.decision, d.note, d.match_probability) for d in stored] == [("always", "same phone", 0.85)]
    (event,) = _app_events(app)
    assert (event.actor, event.action, event.ip) == (EMAILS["editor"], "identity.accept", "testclient")
    assert event.detail["pair_id"] == pair_id and event.detail["note"] == "same phone"
    assert pair_id not in [i["pair_id"] for i in client.get("/api/v1/review").json()["items"]]
    assert client.get(f"/api/v1/review/{pair_id}").json()["decision"]["id"] == decision["id"]


def test_api_unknown_ids_answer_404_in_the_envelope(client, users):
    login_as(client, "editor")
    for method, path in (("GET", "/api/v1/review/nope"), ("POST", "/api/v1/review/nope/accept"),
                         ("POST", "/api/v1/review/nope/reject"), ("DELETE", "/api/v1/review/decisions/999")):
        response = client.request(method, path, headers=_csrf(client))
        assert response.status_code == 404, (method, path)
        assert response.json()["error"]["code"] == "not_found"
    split = client.post("/api/v1/review/split", json={"record_key": "crm:99"}, headers=_csrf(client))
    assert split.status_code == 404 and "no source record 'crm:99'" in split.json()["error"]["message"]


def test_api_conflicts_and_bad_input(client, users):
    login_as(client, "admin")
    headers = _csrf(client)
    pair_id = pid("crm:2", "web:3")
    assert client.post(f"/api/v1/review/{pair_id}/reject", headers=headers).status_code == 200
    conflict = client.post(f"/api/v1/review/{pair_id}/accept", headers=headers)
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "conflict"
    same = client.post("/api/v1/review/merge", json={"record_key_a": "crm:2", "record_key_b": "crm:2"},
                       headers=headers)
    assert same.status_code == 400 and same.json()["error"]["code"] == "bad_request"
    long_note = client.post(f"/api/v1/review/{pid('crm:1', 'sf:1')}/accept", json={"note": "x" * 2001},
                            headers=headers)
    assert long_note.status_code == 422 and long_note.json()["error"]["code"] == "invalid_request"


def test_api_split_decisions_and_revoke_with_tokens(app, client, users):
    read_only = _token(app, "editor", ["read"])
    writer = _token(app, "editor", ["read", "write"])
    assert client.post("/api/v1/review/split", json={"record_key": "crm:1"}, headers=read_only).status_code == 403
    split = client.post("/api/v1/review/split", json={"record_key": "crm:1", "note": "shared inbox"},
                        headers=writer)
    assert split.status_code == 200
    assert sorted(d["record_key_b"] for d in split.json()["created"]) == ["sf:1", "web:1"]
    merged = client.post("/api/v1/review/merge", json={"record_key_a": "crm:3", "record_key_b": "crm:2"},
                         headers=writer)
    assert merged.status_code == 200 and merged.json()["created"][0]["origin"] == "manual"
    listed = client.get("/api/v1/review/decisions", params={"limit": 2}, headers=read_only).json()
    assert (listed["total"], len(listed["items"])) == (3, 2)
    nevers = client.get("/api/v1/review/decisions", params={"decision": "never"}, headers=read_only).json()
    assert nevers["total"] == 2
    # crm:1 / sf:1 was in the queue: revoking its split decision puts it back.
    target = next(d for d in nevers["items"] if d["record_key_b"] == "sf:1")
    assert pid("crm:1", "sf:1") not in [i["pair_id"] for i in client.get("/api/v1/review", headers=read_only)
                                       .json()["items"]]
    assert client.delete(f"/api/v1/review/decisions/{target['id']}", headers=read_only).status_code == 403
    revoked = client.delete(f"/api/v1/review/decisions/{target['id']}", headers=writer)
    assert revoked.status_code == 200 and revoked.json()["removed"][0]["id"] == target["id"]
    assert pid("crm:1", "sf:1") in [i["pair_id"] for i in client.get("/api/v1/review", headers=read_only)
                                   .json()["items"]]
    assert [e.action for e in _app_events(app)] == ["identity.split", "identity.split", "identity.merge",
                                                    "identity.revoke"]
    assert all(e.actor == EMAILS["editor"] for e in _app_events(app))
    assert PASSWORDS["editor"] not in repr([e.detail for e in _app_events(app)])
