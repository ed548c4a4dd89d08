"""``marketops review``: the queue of uncertain identity matches, and merge decisions.

Decisions are stored in the app database and take effect at the next ``marketops run``. Who
decided is recorded in the audit log: ``--as EMAIL`` names a web-app user (editor or admin),
otherwise the OS user is recorded as ``cli:<name>``.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from marketops.cli.output import JsonOpt, WorkspaceOpt, console, fail, print_json
from marketops.errors import MarketopsError, NotFound
from marketops.quality import review as rv
from marketops.state.db import init_db, session_scope
from marketops.state.users import get_user
from marketops.workspace import Workspace

app = typer.Typer(help="Review uncertain identity matches: accept, reject, split, merge, undo.",
                  no_args_is_help=True)

ActorOpt = Annotated[str | None, typer.Option(
    "--as", envvar="MARKETOPS_ACTOR", metavar="EMAIL",
    help="Record the decision as this web-app user (editor or admin); default: cli:<OS user>.")]
NoteOpt = Annotated[str | None, typer.Option("--note", "-n",
                                             help="Why: kept with the decision and in the audit log.")]
SHORT_ID = 12
VERDICT_STYLE = {"agree": "green", "disagree": "red", "neutral": "dim"}
ORIGIN_LABEL = {"review_accept": "accepted", "review_reject": "rejected", "split": "split", "manual": "by hand"}


@contextmanager
def _workspace(path: Path) -> Iterator[Workspace]:
    """The workspace with its warehouse read-only (decisions go to the app database); expected
    errors end the command with a plain message."""
    try:
        with Workspace.open(path, read_only=True) as ws:
            yield ws
    except MarketopsError as e:
        fail(e.message, e.hint)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return "unknown"


def _actor(ws: Workspace, as_: str | None) -> str:
    if as_ is None:
        return f"cli:{_os_user()}"
    url = ws.app_database_url
    init_db(url)
    with session_scope(url) as session:
        user = get_user(session, as_)
        if user is None or not user.active:
            raise NotFound(f"no active web-app user with email '{as_}'",
                           hint="list users with `marketops users list`")
        if user.role not in ("admin", "editor"):
            raise rv.InvalidDecision(f"{user.email} is a {user.role}; "
                                     "merge decisions need the editor or admin role")
        return user.email


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _record_cell(record: dict[str, Any]) -> Text:
    # Text, never markup: names and emails come from customers' files and may contain "[...]".
    cell = Text(_text(record.get("record_key")), style="bold")
    name = " ".join(_text(record.get(k)) for k in ("first_name", "last_name") if record.get(k))
    for line in (name, *(_text(record.get(k)) for k in ("email", "phone", "company", "city"))):
        if line:
            cell.append("\n" + line)
    return cell


def _evidence_cell(evidence: tuple[rv.Evidence, ...]) -> Text:
    cell = Text()
    for i, e in enumerate(sorted(evidence, key=lambda e: -(e.match_weight or 0))):
        weight = f"{e.match_weight:+.1f}" if e.match_weight is not None else "  ?"
        cell.append(("\n" if i else "") + f"{e.column}: {e.level or '-'} {weight}", style=VERDICT_STYLE[e.verdict])
    return cell


def _probability(value: float | None) -> str:
    return "?" if value is None else f"{value:.3f}"


def _print_outcome(outcome: rv.DecisionOutcome, as_json: bool) -> None:
    if as_json:
        print_json(outcome.to_json())
    else:
        console.print(outcome.message, highlight=False, markup=False)


@app.command("list")
def list_(limit: Annotated[int, typer.Option("--limit", "-l", min=1, help="Show at most this many pairs.")] = 20,
          offset: Annotated[int, typer.Option("--offset", min=0, help="Skip this many pairs first.")] = 0,
          min_probability: Annotated[float | None, typer.Option(
              "--min", min=0.0, max=1.0, help="Only pairs at least this probable (0-1).")] = None,
          max_probability: Annotated[float | None, typer.Option(
              "--max", min=0.0, max=1.0, help="Only pairs at most this probable (0-1).")] = None,
          as_json: JsonOpt = False, workspace: WorkspaceOpt = Path(".")) -> None:
    """Pairs waiting for review, the most probable first: the two records side by side and the evidence."""
    with _workspace(workspace) as ws:
        page = rv.review_page(ws, limit=limit, offset=offset, min_probability=min_probability,
                              max_probability=max_probability)
    if as_json:
        print_json(page.to_json())
        return
    items, total = page.items, page.total
    if not page.resolved:
        console.print("No identity pairs yet: run the pipeline first (`marketops run`).")
        return
    if not items:
        console.print("Nothing waiting for review." if not total else f"No pairs after the first {offset}.")
        return
    table = Table("Pair", "Prob.", "Record A", "Record B", "Evidence (weight: + for, - against)",
                  title=f"Waiting for review: {offset + 1}-{offset + len(items)} of {total} (run {page.run_id})",
                  header_style="bold", show_lines=True)
    for item in items:
        table.add_row(item.pair_id[:SHORT_ID], _probability(item.match_probability), _record_cell(item.left),
                      _record_cell(item.right), _evidence_cell(item.evidence))
    console.print(table)
    console.print("[dim]Decide with `marketops review accept PAIR` or `reject PAIR`; "
                  "`marketops review show PAIR` shows one pair in full.[/]")


@app.command("show")
def show(pair_id: Annotated[str, typer.Argument(help="The pair's id (its first characters are enough).")],
         as_json: JsonOpt = False, workspace: WorkspaceOpt = Path(".")) -> None:
    """One pair: both records field by field, the evidence, and its decision if any."""
    with _workspace(workspace) as ws:
        item = rv.get_item(ws, pair_id)
    if as_json:
        print_json(item.to_json())
        return
    console.print(Text.assemble(("Pair ", "bold"), item.pair_id, f"  run {item.run_id}  status {item.status}  "
                                f"probability {_probability(item.match_probability)}"))
    records = Table("Field", "Record A", "Record B", header_style="bold")
    for field in ("record_key", *rv.DISPLAY_COLUMNS):
        if field in item.left or field in item.right:
            records.add_row(field, Text(_text(item.left.get(field))), Text(_text(item.right.get(field))))
    console.print(records)
    evidence = Table("Column", "Record A", "Record B", "Level", "Weight", "Verdict", header_style="bold",
                     title="Evidence")
    for e in item.evidence:
        evidence.add_row(e.column, Text(_text(e.left)), Text(_text(e.right)), Text(_text(e.level)),
                         f"{e.match_weight:+.2f}" if e.match_weight is not None else "?",
                         Text(e.verdict, style=VERDICT_STYLE[e.verdict]))
    console.print(evidence)
    if item.decision:
        d = item.decision
        console.print(Text(f"Decision {d.id}: {d.describe()}, by {d.decided_by} at {d.decided_at:%Y-%m-%d %H:%M}"
                           + (f" ({d.note})" if d.note else "")))
    else:
        console.print("No decision yet.")


@app.command("accept")
def accept(pair_id: Annotated[str, typer.Argument(help="The pair's id (see `marketops review list`).")],
           note: NoteOpt = None, as_: ActorOpt = None, as_json: JsonOpt = False,
           workspace: WorkspaceOpt = Path(".")) -> None:
    """Accept a match: always merge the two records (from the next run on)."""
    with _workspace(workspace) as ws:
        outcome = rv.accept(ws, pair_id, _actor(ws, as_), note)
    _print_outcome(outcome, as_json)


@app.command("reject")
def reject(pair_id: Annotated[str, typer.Argument(help="The pair's id (see `marketops review list`).")],
           note: NoteOpt = None, as_: ActorOpt = None, as_json: JsonOpt = False,
           workspace: WorkspaceOpt = Path(".")) -> None:
    """Reject a match: never merge the two records (from the next run on)."""
    with _workspace(workspace) as ws:
        outcome = rv.reject(ws, pair_id, _actor(ws, as_), note)
    _print_outcome(outcome, as_json)


@app.command("split")
def split(record_key: Annotated[str, typer.Argument(help="The source record to split off, e.g. hubspot:123.")],
          note: NoteOpt = None, as_: ActorOpt = None, as_json: JsonOpt = False,
          workspace: WorkspaceOpt = Path(".")) -> None:
    """Split a record off its person: never merge it with the person's other records."""
    with _workspace(workspace) as ws:
        outcome = rv.split(ws, record_key, _actor(ws, as_), note)
    _print_outcome(outcome, as_json)


@app.command("merge")
def merge(record_key_a: Annotated[str, typer.Argument(help="One source record, e.g. hubspot:123.")],
          record_key_b: Annotated[str, typer.Argument(help="The other source record, e.g. salesforce:003A1.")],
          note: NoteOpt = None, as_: ActorOpt = None, as_json: JsonOpt = False,
          workspace: WorkspaceOpt = Path(".")) -> None:
    """Merge two source records by hand: always one person (from the next run on)."""
    with _workspace(workspace) as ws:
        outcome = rv.merge(ws, record_key_a, record_key_b, _actor(ws, as_), note)
    _print_outcome(outcome, as_json)


@app.command("decisions")
def decisions(decision: Annotated[str | None, typer.Option(help="Only 'always' or 'never' decisions.")] = None,
              record: Annotated[str | None, typer.Option(
                  "--record", help="Only decisions about this record key.")] = None,
              as_json: JsonOpt = False, workspace: WorkspaceOpt = Path(".")) -> None:
    """Live merge decisions, newest first."""
    with _workspace(workspace) as ws:
        rows = rv.list_decisions(ws, decision=decision, record_key=record)
    if as_json:
        print_json([d.to_json() for d in rows])
        return
    if not rows:
        console.print("No merge decisions yet.")
        return
    table = Table(header_style="bold", title="Merge decisions")
    for column in ("Id", "Decision", "Records", "Origin", "Prob.", "By", "At", "Note"):
        # Ids and verdicts stay on one line; record keys, names and notes wrap rather than being cut.
        table.add_column(column, no_wrap=column in ("Id", "Decision", "Origin", "Prob."), overflow="fold")
    for d in rows:
        table.add_row(str(d.id), Text(d.decision, style="green" if d.decision == "always" else "red"),
                      Text(f"{d.record_key_a}\n{d.record_key_b}"), ORIGIN_LABEL.get(d.origin, d.origin),
                      _probability(d.match_probability) if d.match_probability is not None else "",
                      Text(d.decided_by), f"{d.decided_at:%Y-%m-%d\n%H:%M}", Text(d.note or ""))
    console.print(table)


@app.command("revoke")
def revoke(decision_id: Annotated[int, typer.Argument(
               help="The decision's id (see `marketops review decisions`).")],
           as_: ActorOpt = None, as_json: JsonOpt = False, workspace: WorkspaceOpt = Path(".")) -> None:
    """Undo a decision; a pair it settled goes back to the review queue."""
    with _workspace(workspace) as ws:
        outcome = rv.revoke(ws, decision_id, _actor(ws, as_))
    _print_outcome(outcome, as_json)
