"""The predictive lead score on the sample company: a time-based split, a held-out report (AUC, lift by
decile, calibration) for the model and the rules, the rule that picks the score, the CLI, the API and
the page, roles, and the error without scikit-learn."""

from __future__ import annotations

import builtins
import csv
import io
import json
import shutil

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from marketops.app import create_app
from marketops.cli.main import app as cli_app
from marketops.errors import MissingDependency
from marketops.leads import predictive
from marketops.leads.predictive import load_report, predictive_in_use, train_model, training_frame
from marketops.leads.scoring import score_table
from marketops.pipeline import run_pipeline
from marketops.state.db import dispose, session_scope
from marketops.state.users import create_user
from marketops.workspace import Workspace
from tests.app_fixtures import EMAILS, PASSWORDS, csrf_from, login_as

pytest.importorskip("sklearn")
ENV = ("MARKETOPS_DATABASE_URL", "MARKETOPS_SECRET_KEY", "MARKETOPS_ADMIN_EMAIL", "MARKETOPS_ADMIN_PASSWORD",
       "MARKETOPS_ENGINE")


@pytest.fixture(scope="module")
def root(tmp_path_factory, sample_dir):
    with pytest.MonkeyPatch.context() as mp:
        for var in ENV:
            mp.delenv(var, raising=False)
        ws = Workspace.init(tmp_path_factory.mktemp("predict") / "acme", name="Acme Sample")
        shutil.rmtree(ws.inbox)
        shutil.copytree(sample_dir / "inbox", ws.inbox)
        assert run_pipeline(ws).status == "succeeded"
        path = ws.root
        ws.close()
        yield path


@pytest.fixture
def scoring_yaml(root):
    """Write a `leads.scoring` section for one test; the file is restored afterwards."""
    path = root / "marketops.yaml"
    before = path.read_text(encoding="utf-8")

    def write(section: str) -> None:
        path.write_text(before + "\nleads:\n  scoring:\n" + section, encoding="utf-8")

    yield write
    path.write_text(before, encoding="utf-8")


def _open(root) -> Workspace:
    return Workspace.open(root, read_only=True)


def test_time_split_trains_on_older_leads_and_tests_on_newer(root):
    with _open(root) as ws:
        df, group = training_frame(ws)
        report = train_model(ws)
    assert group == "default" and report.leads == len(df) > 100
    assert report.train + report.test == report.leads and report.test == round(len(df) * 0.3)
    train, test = df.iloc[: report.train], df.iloc[report.train:]
    assert train.lead_at.max() <= test.lead_at.min()
    assert str(train.lead_at.max()) == report.train_until
    assert set(df.label.unique()) == {0, 1}


def test_report_on_held_out_leads(root):
    with _open(root) as ws:
        report = train_model(ws)
        saved = load_report(ws)
    assert saved == json.loads(json.dumps(report.to_json(), default=str))
    assert 0 <= report.auc_model <= 1 and 0 <= report.auc_rules <= 1
    for method in ("model", "rules"):
        deciles = report.lift[method]
        assert [d["decile"] for d in deciles] == list(range(1, 11))
        assert sum(d["leads"] for d in deciles) == report.test
        assert sum(d["converted"] for d in deciles) == report.test_converted
    assert sum(c["leads"] for c in report.calibration) == report.test
    assert all(0 <= c["predicted"] <= 1 and 0 <= c["observed"] <= 1 for c in report.calibration)
    assert report.model_beats_rules == (report.auc_model >= report.auc_rules + report.min_auc_gain)


def test_training_is_deterministic(root):
    with _open(root) as ws:
        first, second = train_model(ws), train_model(ws)
    assert (first.auc_model, first.lift, first.calibration) == (second.auc_model, second.lift, second.calibration)


def test_the_model_is_the_score_only_when_it_beats_the_rules_or_is_asked_for(root, scoring_yaml):
    with _open(root) as ws:
        report = train_model(ws)
        assert predictive_in_use(ws) == report.model_beats_rules  # use: auto
    scoring_yaml("    use: rules\n")
    with _open(root) as ws:
        assert not predictive_in_use(ws)
    scoring_yaml("    predictive:\n      min_auc_gain: 0\n")
    with _open(root) as ws:
        beats = train_model(ws).model_beats_rules
        assert beats == (report.auc_model >= report.auc_rules) and predictive_in_use(ws) == beats
    scoring_yaml("    use: predictive\n    predictive:\n      mql_probability: 0.2\n")
    with _open(root) as ws:
        train_model(ws)
        assert predictive_in_use(ws)
        rows = score_table(ws).to_pylist()
    assert rows and all(0 <= r["score"] <= 100 for r in rows)
    assert all(r["mql"] == (r["score"] >= 20 - 1e-9) for r in rows)


def test_without_scikit_learn_the_error_names_the_install_line(root, monkeypatch):
    real = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name == "sklearn" or name.startswith("sklearn."):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    with _open(root) as ws, pytest.raises(MissingDependency) as e:
        predictive.train_model(ws)
    assert "pip install 'marketops[predict]'" in str(e.value)


def test_cli_model_trains_and_shows_the_report(root):
    runner = CliRunner()
    res = runner.invoke(cli_app, ["leads", "model", "-w", str(root), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert {"auc_model", "auc_rules", "lift", "calibration", "model_beats_rules"} <= set(data)
    res = runner.invoke(cli_app, ["leads", "model", "-w", str(root), "--show"])
    assert res.exit_code == 0 and "Held-out AUC" in res.output and "Lift by decile" in res.output


# -- API and page ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def web(root):
    with pytest.MonkeyPatch.context() as mp:
        for var in ENV:
            mp.delenv(var, raising=False)
        application = create_app(root, warm=False)
        with session_scope(application.state.database_url) as s:
            for role, email in EMAILS.items():
                create_user(s, email, PASSWORDS[role], role=role, name=role.title())
        yield application
        dispose(application.state.database_url)


def _client(web, role: str) -> TestClient:
    c = TestClient(web, follow_redirects=False)
    login_as(c, role)
    return c


def test_api_trains_for_editors_only_and_reports(web):
    viewer, editor = _client(web, "viewer"), _client(web, "editor")
    refused = viewer.post("/api/v1/leads/model", headers={"X-CSRF-Token": csrf_from(viewer.get("/leads/model").text)})
    assert refused.status_code == 403 and "error" in refused.json()
    page = editor.get("/leads/model")
    trained = editor.post("/api/v1/leads/model", headers={"X-CSRF-Token": csrf_from(page.text)})
    assert trained.status_code == 200, trained.text
    body = viewer.get("/api/v1/leads/model").json()
    assert body["auc_model"] == trained.json()["auc_model"] and "in_use" in body
    lift = list(csv.DictReader(io.StringIO(viewer.get("/api/v1/leads/model", params={
        "table": "lift", "format": "csv"}).content.decode("utf-8-sig"))))
    assert len(lift) == 20 and {r["method"] for r in lift} == {"model", "rules"}
    cal = viewer.get("/api/v1/leads/model", params={"table": "calibration", "format": "xlsx"})
    assert cal.status_code == 200 and cal.content[:2] == b"PK"


def test_model_page_shows_the_report_and_trains_through_the_form(web):
    viewer, editor = _client(web, "viewer"), _client(web, "editor")
    page = editor.get("/leads/model")
    assert 'id="train-form"' in page.text
    assert editor.post("/leads/model", data={"csrf_token": "forged"}).status_code == 403
    done = editor.post("/leads/model", data={"csrf_token": csrf_from(page.text)})
    assert done.status_code == 303 and done.headers["location"] == "/leads/model"
    shown = editor.get("/leads/model").text
    assert 'id="flash"' in shown and 'id="auc-model"' in shown and shown.count('class="chart"') == 2
    seen = viewer.get("/leads/model").text
    assert 'id="train-form"' not in seen and 'id="lift-table"' in seen
    assert viewer.post("/leads/model", data={"csrf_token": csrf_from(seen)}).status_code == 403
