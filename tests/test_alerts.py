"""Alerts and the daily digest: collection from goals, budget pacing, SLAs and overdue tasks; who
receives what (kinds, "only their own"); the digest sent to a local SMTP server (aiosmtpd) started
by the tests; once a day unless forced; plain SMTP errors that never show the password; the CLI.
"""

from __future__ import annotations

import datetime as dt
import email
import json
import socket
from decimal import Decimal as D
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlalchemy import select
from typer.testing import CliRunner

from marketops.cli.main import app as cli_app
from marketops.plan.alerts import collect_alerts, filter_alerts
from marketops.plan.budgets import PacingAlert
from marketops.plan.digest import DigestError, plan_digests, prepare, send_digests
from marketops.state.alerts import AlertDigest
from marketops.state.db import dispose, init_db, session_scope
from marketops.state.models import AuditEvent
from marketops.state.planning import Goal, GoalProgress, Initiative, Task
from marketops.state.users import create_user
from marketops.workspace import Workspace
from tests.test_slas import SLA_YAML, sla_workspace

runner = CliRunner()
TODAY = dt.date(2026, 3, 16)  # February is the last complete month: both MQL SLAs breached it
PASSWORD = "s3cret-Smtp-pass"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 OK"

    def by_recipient(self) -> dict[str, email.message.EmailMessage]:
        return {rcpt[0]: msg for _, rcpt, msg in self.messages}


def _login_ok(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"marketops" and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 535 itself


@pytest.fixture
def smtp():
    """A local SMTP server that takes the login marketops / PASSWORD (no TLS)."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=_login_ok,
                            auth_require_tls=False)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def alerts_yaml(port: int, *, extra_smtp: str = "") -> str:
    return SLA_YAML + f"""\
alerts:
  base_url: https://ops.acme.test/
  smtp:
    host: 127.0.0.1
    port: {port}
    from_address: marketops@acme.test
    username: marketops
    password_env: ACME_SMTP_PASSWORD
    starttls: false
    timeout: 5
{extra_smtp}  recipients:
    - email: cmo@acme.test
    - email: ana@acme.test
      kinds: [task, goal]
      only_own: true
    - email: sam@acme.test
      kinds: [sla]
      only_own: true
    - email: finance@acme.test
      kinds: [budget]
"""


def seed(url: str) -> None:
    """Goals with measurements, an initiative and tasks (two overdue on TODAY), and Ana as a user."""
    with session_scope(url) as s:
        create_user(s, "ana@acme.test", "ana's long password", role="editor", name="Ana Rossi")
        g1 = Goal(title="More email clicks", metric="email_clicks", target=1000.0, owner="Ana Rossi")
        g2 = Goal(title="More SQLs", metric="sqls", target=50.0, owner="bo@acme.test")
        g3 = Goal(title="More leads", metric="leads", target=50.0, owner="ana@acme.test")
        s.add_all([g1, g2, g3])
        s.flush()
        # an older off_track row for g3 is superseded by a newer on_track one: no alert
        s.add_all([GoalProgress(goal_id=g1.id, status="at_risk", value=700.0,
                                detail={"message": "More email clicks is at risk: forecast 850 by 2026-12-31."}),
                   GoalProgress(goal_id=g2.id, status="off_track", value=10.0,
                                detail={"message": "More SQLs is off track: forecast 20 against 50."}),
                   GoalProgress(goal_id=g3.id, status="off_track", value=1.0, detail={"message": "old"})])
        s.flush()
        s.add(GoalProgress(goal_id=g3.id, status="on_track", value=49.0, detail={"message": "fine"}))
        ini = Initiative(title="Spring launch <b>2026</b>")
        s.add(ini)
        s.flush()
        s.add_all([Task(initiative_id=ini.id, title="Write the <script>alert(1)</script> page", owner="Ana Rossi",
                        status="in_progress", due_date=dt.date(2026, 3, 13)),
                   Task(initiative_id=ini.id, title="Book the venue", owner="bo@acme.test", status="todo",
                        due_date=dt.date(2026, 2, 20)),
                   Task(initiative_id=ini.id, title="Done already", owner="Ana Rossi", status="done",
                        due_date=dt.date(2026, 2, 1)),
                   Task(initiative_id=ini.id, title="Due today", owner="Ana Rossi", status="todo",
                        due_date=TODAY)])


@pytest.fixture
def root(tmp_path, smtp, monkeypatch) -> Path:
    for var in ("MARKETOPS_DATABASE_URL", "MARKETOPS_ENGINE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ACME_SMTP_PASSWORD", PASSWORD)
    r = sla_workspace(tmp_path / "acme", alerts_yaml(smtp[1]))
    url = Workspace.open(r).app_database_url
    init_db(url)
    seed(url)
    yield r
    dispose(url)


def pacing(ws, session, today, tolerance):
    """The budget seam: one constructed over-pacing line."""
    return [PacingAlert("over_pacing", "Paid Search", dt.date(2026, 3, 1), D("3100.00"), D("1500.00"),
                        D("2250.00"), D("4650.00"), "EUR",
                        "Paid Search is over-pacing: 2,250.00 EUR spent through 15 Mar, 50% ahead of plan.")]


@pytest.fixture
def ws(root):
    w = Workspace.open(root, read_only=True)
    yield w
    w.close()


@pytest.fixture
def session(ws):
    with session_scope(ws.app_database_url) as s:
        yield s


def test_alerts_are_collected_from_goals_budgets_slas_and_overdue_tasks(ws, session):
    listed = collect_alerts(ws, session, today=TODAY, pacing=pacing)
    got = {(a.kind, a.status, a.title) for a in listed.alerts}
    assert got == {
        ("goal", "at_risk", "Goal at risk: More email clicks"),
        ("goal", "off_track", "Goal off track: More SQLs"),
        ("budget", "over_pacing", "Over-pacing: Paid Search"),
        ("sla", "breached", "SLA breached: mql-volume"),
        ("sla", "breached", "SLA breached: mql-follow-up"),
        ("task", "overdue", "Overdue task: Write the <script>alert(1)</script> page"),
        ("task", "overdue", "Overdue task: Book the venue"),
    }, got
    by_title = {a.title: a for a in listed.alerts}
    assert by_title["Goal at risk: More email clicks"].message.startswith("More email clicks is at risk")
    assert by_title["Goal off track: More SQLs"].severity == "critical"
    assert by_title["Overdue task: Book the venue"].severity == "critical"  # 24 days late
    assert by_title["Overdue task: Write the <script>alert(1)</script> page"].severity == "warning"
    assert "(24 days ago)" in by_title["Overdue task: Book the venue"].message
    sla = by_title["SLA breached: mql-follow-up"]
    assert sla.owner == "sam@acme.test" and sla.link == "/slas#sla-mql-follow-up" and "75%" in sla.message
    assert [a.severity for a in listed.alerts] == sorted((a.severity for a in listed.alerts),
                                                         key=["critical", "warning"].index)
    counts = listed.counts()
    assert (counts["goal"], counts["budget"], counts["sla"], counts["task"]) == (2, 1, 2, 2)
    assert listed.problems == []


def test_who_receives_what(ws, session):
    alerts = collect_alerts(ws, session, today=TODAY, pacing=pacing).alerts
    mine = {r: {a.title for a in filter_alerts(alerts, recipient=r)} for r in
            ("cmo@acme.test", "ana@acme.test", "sam@acme.test", "finance@acme.test")}
    assert len(mine["cmo@acme.test"]) == len(alerts)  # every kind
    # only her own: the task and the goal owned by her user name, not Bo's
    assert mine["ana@acme.test"] == {"Goal at risk: More email clicks",
                                     "Overdue task: Write the <script>alert(1)</script> page"}
    assert mine["sam@acme.test"] == {"SLA breached: mql-follow-up"}
    assert mine["finance@acme.test"] == {"Over-pacing: Paid Search"}


def test_a_pacing_source_that_fails_is_reported_not_fatal(ws, session):
    def broken(*_):
        from marketops.errors import NotFound
        raise NotFound("the table ad_spend is not loaded")

    listed = collect_alerts(ws, session, today=TODAY, pacing=broken)
    assert listed.problems == ["Budget pacing could not be checked: the table ad_spend is not loaded"]
    assert listed.counts()["task"] == 2


def test_renewals_and_asset_rights_join_the_alerts_and_the_digest(ws, session, smtp):
    from marketops.library.assets import create_asset
    from marketops.stack.registry import ToolDraft, create_tool

    create_tool(session, ToolDraft(name="Drift", owner="Ana Rossi", renewal_date=TODAY + dt.timedelta(days=5)),
                actor="test")
    create_tool(session, ToolDraft(name="Tableau", owner="Bo", renewal_date=TODAY + dt.timedelta(days=20)),
                actor="test")
    create_tool(session, ToolDraft(name="Later", renewal_date=TODAY + dt.timedelta(days=200)), actor="test")
    create_asset(session, name="Hero video", type="video", owner="Ana Rossi", actor="test",
                 expires_on=TODAY - dt.timedelta(days=1))
    create_asset(session, name="Stock photo", type="image", owner="Bo", actor="test",
                 expires_on=TODAY + dt.timedelta(days=10))
    create_asset(session, name="Logo", type="logo", owner="Ana Rossi", actor="test")  # no expiry: no alert
    session.flush()
    listed = collect_alerts(ws, session, today=TODAY, pacing=pacing)
    got = {(a.kind, a.severity, a.title) for a in listed.alerts if a.kind in ("stack", "asset")}
    assert got == {("stack", "critical", "Renewal in 5 days: Drift"), ("stack", "warning", "Renewal in 20 days: Tableau"),
                   ("asset", "critical", "Asset rights expired: Hero video"),
                   ("asset", "warning", "Asset rights expiring: Stock photo")}, got
    assert (listed.counts()["stack"], listed.counts()["asset"]) == (2, 2)
    assert {a.owner for a in listed.alerts if a.kind in ("stack", "asset")} == {"Ana Rossi", "Bo"}
    # the CMO receives every kind, counted in the subject; Ana asked for tasks and goals only
    assert not {a.kind for a in filter_alerts(listed.alerts, recipient="ana@acme.test")} & {"stack", "asset"}
    _, digests = prepare(ws, session, today=TODAY, pacing=pacing)
    cmo = next(d for d in digests if d.recipient == "cmo@acme.test")
    assert "2 renewals" in cmo.subject and "2 assets expiring" in cmo.subject, cmo.subject
    assert "Renewal in 5 days: Drift" in cmo.text and "/assets/" in cmo.text


def test_the_digest_reaches_each_recipient_with_their_alerts(ws, session, smtp):
    inbox, _ = smtp
    listed, digests = prepare(ws, session, today=TODAY, pacing=pacing)
    result = send_digests(session, ws.config.alerts.smtp, digests, day=TODAY, actor="test")
    assert sorted(d.recipient for d in result.sent) == ["ana@acme.test", "cmo@acme.test", "finance@acme.test",
                                                         "sam@acme.test"]
    got = inbox.by_recipient()
    assert set(got) == {"ana@acme.test", "cmo@acme.test", "finance@acme.test", "sam@acme.test"}
    assert all(sender == "marketops@acme.test" for sender, _, _ in inbox.messages)
    cmo = got["cmo@acme.test"]
    assert cmo["Subject"] == ("Acme alerts 2026-03-16: 7 alerts (4 critical) - 2 goals, 1 pacing alert, 2 SLAs, "
                              "2 overdue tasks")
    text = cmo.get_body(("plain",)).get_content()
    page = cmo.get_body(("html",)).get_content()
    for a in listed.alerts:
        assert a.title in text and a.message in text, a.title
        assert "https://ops.acme.test" + a.link in text
    assert "Write the &lt;script&gt;alert(1)&lt;/script&gt; page" in page and "<script>" not in page
    ana = got["ana@acme.test"]
    assert ana["Subject"] == "Acme alerts 2026-03-16: 2 alerts - 1 goal, 1 overdue task"
    body = ana.get_body(("plain",)).get_content()
    assert "More email clicks" in body and "Write the" in body
    assert "Book the venue" not in body and "More SQLs" not in body and "Paid Search" not in body
    rows = session.scalars(select(AlertDigest).order_by(AlertDigest.recipient)).all()
    assert (rows[0].recipient, rows[0].alerts, rows[0].day) == ("ana@acme.test", 2, TODAY)
    assert session.scalars(select(AuditEvent).where(AuditEvent.action == "alerts.digest")).one().actor == "test"


def test_a_second_send_the_same_day_is_refused_unless_forced(ws, session, smtp):
    inbox, _ = smtp
    _, digests = prepare(ws, session, today=TODAY, pacing=pacing)
    send_digests(session, ws.config.alerts.smtp, digests, day=TODAY, actor="test")
    again = send_digests(session, ws.config.alerts.smtp, digests, day=TODAY, actor="test")
    assert again.sent == [] and len(again.already_sent) == 4 and "Already sent today" in again.message
    assert len(inbox.messages) == 4
    forced = send_digests(session, ws.config.alerts.smtp, digests, day=TODAY, actor="test", force=True)
    assert len(forced.sent) == 4 and len(inbox.messages) == 8
    tomorrow = send_digests(session, ws.config.alerts.smtp, digests, day=TODAY + dt.timedelta(days=1), actor="t")
    assert len(tomorrow.sent) == 4


def test_to_one_address(ws, session):
    listed = collect_alerts(ws, session, today=TODAY, pacing=pacing)
    [mine] = plan_digests(listed.alerts, ws.config.alerts, day=TODAY, workspace="Acme", to="Ana@acme.test")
    assert len(mine.alerts) == 2  # a configured recipient: her own
    [other] = plan_digests(listed.alerts, ws.config.alerts, day=TODAY, workspace="Acme", to="new@acme.test")
    assert len(other.alerts) == len(listed.alerts)


def _smtp_config(ws, **changes):
    return ws.config.alerts.smtp.model_copy(update=changes)


def test_smtp_errors_are_plain_and_never_show_the_password(ws, session, smtp, monkeypatch):
    _, port = smtp
    _, digests = prepare(ws, session, today=TODAY, pacing=pacing)
    closed = free_port()
    with pytest.raises(DigestError) as e:
        send_digests(session, _smtp_config(ws, port=closed), digests, day=TODAY, actor="t")
    assert f"could not connect to the SMTP server 127.0.0.1:{closed}" in str(e.value)
    with pytest.raises(DigestError) as e:
        send_digests(session, _smtp_config(ws, starttls=True), digests, day=TODAY, actor="t")
    assert "could not start TLS (STARTTLS) with the SMTP server" in str(e.value)
    monkeypatch.setenv("ACME_SMTP_PASSWORD", "wrong-" + PASSWORD)
    with pytest.raises(DigestError) as e:
        send_digests(session, ws.config.alerts.smtp, digests, day=TODAY, actor="t")
    assert f"could not log in as marketops to the SMTP server 127.0.0.1:{port}: the server refused the login" \
        in str(e.value)
    assert PASSWORD not in str(e.value) and PASSWORD not in repr(e.value)
    monkeypatch.delenv("ACME_SMTP_PASSWORD")
    with pytest.raises(DigestError, match="the environment variable ACME_SMTP_PASSWORD .* is not set"):
        send_digests(session, ws.config.alerts.smtp, digests, day=TODAY, actor="t")
    assert session.scalars(select(AlertDigest)).all() == []  # nothing logged when nothing was sent


def test_the_password_is_never_written_in_the_yaml(tmp_path):
    from marketops.errors import ConfigError
    from marketops.settings import load_config

    p = tmp_path / "marketops.yaml"
    p.write_text("name: x\nalerts:\n  smtp:\n    host: smtp.acme.test\n    password: hunter2\n")
    with pytest.raises(ConfigError, match="unknown setting 'password' \\(did you mean 'password_env'\\?\\)"):
        load_config(p)
    p.write_text("name: x\nalerts:\n  smtp:\n    password_env: 'hunter2 !'\n")
    with pytest.raises(ConfigError, match="marketops.yaml:4: .*names an environment variable"):
        load_config(p)
    p.write_text("name: x\nalerts:\n  recipients:\n    - email: ana@acme.test\n      kinds: [tasks, goalz]\n")
    with pytest.raises(ConfigError, match="unknown alert kind 'goalz' \\(did you mean 'goal'\\?\\)"):
        load_config(p)


# -- CLI -------------------------------------------------------------------------------------------------

def test_cli_lists_alerts_and_shows_and_sends_the_digest(root, smtp):
    inbox, _ = smtp
    w = ["-w", str(root), "--today", TODAY.isoformat()]
    r = runner.invoke(cli_app, ["alerts", "--json", *w])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["counts"]["task"] == 2 and data["counts"]["sla"] == 2 and data["counts"]["goal"] == 2
    r = runner.invoke(cli_app, ["alerts", "--kind", "task", *w])
    assert r.exit_code == 0 and "Book the venue" in r.output and "More SQLs" not in r.output, r.output
    r = runner.invoke(cli_app, ["alerts", "--kind", "tsk", *w])
    assert r.exit_code == 1 and "did you mean 'task'" in r.output
    r = runner.invoke(cli_app, ["alerts", "digest", *w])
    assert r.exit_code == 0 and "To ana@acme.test" in r.output and "Not sent" in r.output, r.output
    assert inbox.messages == []
    r = runner.invoke(cli_app, ["alerts", "digest", "--send", "--to", "ana@acme.test", *w])
    assert r.exit_code == 0 and "Sent the 2026-03-16 digest to ana@acme.test." in r.output, r.output
    assert [rcpt for _, rcpt, _ in inbox.messages] == [["ana@acme.test"]]
    r = runner.invoke(cli_app, ["alerts", "digest", "--send", "--to", "ana@acme.test", *w])
    assert r.exit_code == 0 and "Already sent today to ana@acme.test" in r.output, r.output
    r = runner.invoke(cli_app, ["alerts", "digest", "--send", "--to", "ana@acme.test", "--force", *w])
    assert r.exit_code == 0 and len(inbox.messages) == 2
    r = runner.invoke(cli_app, ["alerts", "digest", "--send", "--to", "not-an-email", *w])
    assert r.exit_code == 1 and "not an email address" in r.output
