"""``marketops playbooks``, ``marketops templates`` and ``marketops assets``: the team's library
from the command line. The CLI's actor in the audit log is "cli".

- ``playbooks list|show|search QUERY|new TITLE``: markdown files in ``library.playbooks_dir``;
- ``templates list|show NAME|use NAME --start DATE --owner X [--set key=value]``;
- ``assets add|list|show|update|remove|expiring``: the register of digital assets.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from marketops.cli._state import app_session
from marketops.cli.output import JsonOpt, WorkspaceOpt, console, fail, print_json, print_table
from marketops.errors import MarketopsError

ACTOR = "cli"
CsvOpt = Annotated[Path | None, typer.Option("--csv", help="Also write the rows to this CSV file.")]
XlsxOpt = Annotated[Path | None, typer.Option("--xlsx", help="Also write the rows to this Excel file.")]

playbooks_app = typer.Typer(no_args_is_help=True, help="Playbooks and process documents: list, read, search, add.")
templates_app = typer.Typer(no_args_is_help=True, help="Templates that create an initiative with its tasks.")
assets_app = typer.Typer(no_args_is_help=True, help="The register of digital assets: rights, owners, expiry.")


def register(app: typer.Typer) -> None:
    """Add the three command groups to the ``marketops`` app."""
    app.add_typer(playbooks_app, name="playbooks", help="Playbooks and process documents with full-text search.")
    app.add_typer(templates_app, name="templates", help="Templates that create an initiative with its tasks.")
    app.add_typer(assets_app, name="assets", help="Digital assets: usage rights, owners, expiry warnings.")


def _workspace(path: Path):
    from marketops.workspace import Workspace

    try:
        return Workspace.open(path)
    except MarketopsError as e:
        fail(e.message, e.hint)


def _files(rows: list[dict[str, Any]], columns: list[str], csv_: Path | None, xlsx: Path | None) -> None:
    import pyarrow as pa

    from marketops.exports import export_table

    flat = [{c: (", ".join(r[c]) if isinstance(r.get(c), list) else r.get(c)) for c in columns} for r in rows]
    table = pa.Table.from_pylist(flat) if flat else pa.table({c: pa.array([], pa.string()) for c in columns})
    for path, fmt in ((csv_, "csv"), (xlsx, "xlsx")):
        if path is not None:
            n = export_table(table, path, fmt)
            console.print(f"Wrote {n:,} rows to {path}", highlight=False)


def _run(fn):
    try:
        return fn()
    except MarketopsError as e:
        fail(e.message, e.hint)


# -- playbooks -------------------------------------------------------------------------------------------
PLAYBOOK_COLUMNS = ["slug", "title", "owner", "tags", "updated", "file"]


@playbooks_app.command("list")
def playbooks_list(tag: Annotated[str | None, typer.Option("--tag", help="Only playbooks with this tag.")] = None,
                   owner: Annotated[str | None, typer.Option("--owner", help="Only this owner's.")] = None,
                   as_json: JsonOpt = False, csv_: CsvOpt = None, xlsx: XlsxOpt = None,
                   workspace: WorkspaceOpt = Path(".")) -> None:
    """Playbooks by title, with owner, tags and the day they were last updated."""
    from marketops.library.playbooks import filter_playbooks, load_playbooks, playbooks_folder

    ws = _workspace(workspace)
    folder = playbooks_folder(ws.root, ws.config.library)
    found = filter_playbooks(_run(lambda: load_playbooks(folder, ws.root)), tag=tag, owner=owner)
    rows = [p.summary() for p in found]
    _files(rows, PLAYBOOK_COLUMNS, csv_, xlsx)
    if as_json:
        print_json(rows)
        return
    for p in found:
        if p.problem:
            console.print(f"[yellow]Warning:[/] {p.problem}", highlight=False)
    if not rows:
        console.print(f"No playbooks{' match' if tag or owner else ''} in {folder}. Add markdown files there, or "
                      "`marketops playbooks new TITLE`.", highlight=False)
        return
    print_table([{**r, "tags": ", ".join(r["tags"])} for r in rows], PLAYBOOK_COLUMNS[:-1], title="Playbooks")


@playbooks_app.command("show")
def playbooks_show(slug: Annotated[str, typer.Argument(help="The playbook's slug (its file name without .md).")],
                   as_json: JsonOpt = False, workspace: WorkspaceOpt = Path(".")) -> None:
    """One playbook: its metadata and markdown."""
    from rich.markdown import Markdown

    from marketops.library.playbooks import get_playbook, playbooks_folder

    ws = _workspace(workspace)
    p = _run(lambda: get_playbook(playbooks_folder(ws.root, ws.config.library), slug, ws.root))
    if as_json:
        print_json({**p.summary(), "body": p.body})
        return
    meta = " · ".join(x for x in (p.owner and f"owner: {p.owner}", p.tags and "tags: " + ", ".join(p.tags),
                                  p.updated and f"updated {p.updated.isoformat()}", p.file) if x)
    console.print(f"[bold]{p.title}[/bold]\n[dim]{meta}[/dim]\n", highlight=False)
    console.print(Markdown(p.body))


@playbooks_app.command("search")
def playbooks_search(query: Annotated[str, typer.Argument(help="Words to find; \"a phrase\"; -word excludes.")],
                     tag: Annotated[str | None, typer.Option("--tag", help="Only playbooks with this tag.")] = None,
                     limit: Annotated[int, typer.Option("--limit", min=1, max=500, help="At most this many.")] = 20,
                     as_json: JsonOpt = False, csv_: CsvOpt = None, xlsx: XlsxOpt = None,
                     workspace: WorkspaceOpt = Path(".")) -> None:
    """Full-text search of the playbooks, best match first, with a snippet around the match."""
    from marketops.library.search import workspace_index

    ws = _workspace(workspace)
    hits = _run(lambda: workspace_index(ws.root, ws.config.library, ws.state_dir).search(query, limit=limit, tag=tag))
    rows = [h.to_json() for h in hits]
    _files(rows, ["slug", "title", "score", "snippet", "tags", "owner"], csv_, xlsx)
    if as_json:
        print_json(rows)
        return
    if not hits:
        console.print(f"Nothing found for '{query}'.", highlight=False)
        return
    from rich.markup import escape

    for h in hits:
        # the HTML snippet's <mark> becomes rich's highlight; its escaped text is shown as typed
        import html

        safe = escape(html.unescape(h.snippet_html)).replace("<mark>", "[bold yellow]").replace("</mark>", "[/]")
        console.print(f"[bold]{escape(h.title)}[/bold]  [dim]{h.slug} · score {h.score:.2f}[/dim]\n  {safe}\n",
                      highlight=False)


@playbooks_app.command("new")
def playbooks_new(title: Annotated[str, typer.Argument(help="The playbook's title.")],
                  slug: Annotated[str | None, typer.Option("--slug", help="File name (default: from the title).")] = None,
                  owner: Annotated[str, typer.Option("--owner", help="Who keeps it up to date.")] = "",
                  tags: Annotated[str, typer.Option("--tags", help="Comma-separated tags.")] = "",
                  body_file: Annotated[Path | None, typer.Option("--from", help="Markdown file with the body.")] = None,
                  as_json: JsonOpt = False, workspace: WorkspaceOpt = Path(".")) -> None:
    """Create a playbook file (front matter + body) in the playbooks folder."""
    from marketops.library.playbooks import playbooks_folder, save_playbook
    from marketops.state import audit

    ws = _workspace(workspace)
    body = f"# {title}\n\n"
    if body_file is not None:
        try:
            body = body_file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as e:
            fail(f"cannot read {body_file}: {e}")
    with app_session(ws.root) as session:
        p = save_playbook(playbooks_folder(ws.root, ws.config.library), title=title, body=body, owner=owner,
                          tags=tags, slug=slug, create=True, root=ws.root)
        audit.record(session, ACTOR, "playbook.create", f"playbook:{p.slug}", {"title": p.title, "file": p.file})
    if as_json:
        print_json({**p.summary(), "body": p.body})
    else:
        console.print(f"Created playbook [bold]{p.slug}[/bold] in {p.file}", highlight=False)


# -- templates ---------------------------------------------------------------------------------------------
def _templates_folder(ws) -> Path:
    return ws.root / ws.config.library.templates_dir


@templates_app.command("list")
def templates_list(as_json: JsonOpt = False, csv_: CsvOpt = None, xlsx: XlsxOpt = None,
                   workspace: WorkspaceOpt = Path(".")) -> None:
    """The templates (built-in and the workspace's own), with how often each was used."""
    from marketops.library.templates import load_templates, usage_counts

    ws = _workspace(workspace)
    found = load_templates(_templates_folder(ws), ws.root)
    with app_session(ws.root) as session:
        used = usage_counts(session)
    rows = [{**t.summary(), "used": used.get(name, 0), "required": ", ".join(t.required())}
            for name, t in sorted(found.templates.items())]
    _files(rows, ["name", "title", "source", "tasks", "required", "used", "description"], csv_, xlsx)
    if as_json:
        print_json({"templates": rows, "problems": found.problems})
        return
    for problem in found.problems:
        console.print(f"[yellow]Warning:[/] {problem}", highlight=False)
    print_table(rows, ["name", "title", "source", "tasks", "required", "used"], title="Templates")


def _plan_rows(plan) -> list[dict[str, Any]]:
    return [{"key": t["key"], "title": t["title"], "owner": t["owner"], "start": t["start_date"],
             "due": t["due_date"], "depends_on": ", ".join(t["depends_on"])} for t in plan.tasks]


@templates_app.command("show")
def templates_show(name: Annotated[str, typer.Argument(help="The template's name.")],
                   start: Annotated[str | None, typer.Option("--start", help="Preview with this start date.")] = None,
                   owner: Annotated[str, typer.Option("--owner", help="Preview with this owner.")] = "owner",
                   set_: Annotated[list[str] | None, typer.Option("--set", help="key=value for a placeholder.")] = None,
                   as_json: JsonOpt = False, workspace: WorkspaceOpt = Path(".")) -> None:
    """A template's placeholders and tasks; with --start, the dates its tasks would get."""
    from marketops.library.templates import get_template, parse_values, plan_from_template, preview_values

    ws = _workspace(workspace)
    t = _run(lambda: get_template(_templates_folder(ws), name, ws.root))
    plan = None
    if start:
        values = _run(lambda: parse_values(set_))
        values = preview_values(t, values)
        plan = _run(lambda: plan_from_template(t, start=start, owner=owner, values=values))
    if as_json:
        print_json({**t.summary(), "initiative": t.initiative.model_dump(),
                    "task_list": [x.model_dump() for x in t.tasks],
                    "preview": None if plan is None else {"initiative": plan.initiative, "tasks": plan.tasks}})
        return
    console.print(f"[bold]{t.title}[/bold] ({t.name}, {t.source})\n{t.description}\n", highlight=False)
    for key, p in t.placeholders.items():
        console.print(f"  {{{key}}}  {p.label}" + (f"  [dim](default: {p.default})[/dim]" if p.default is not None
                                                   else "  [bold](required)[/bold]"), highlight=False)
    console.print(f"\nStory: {t.initiative.story}", highlight=False)
    if plan is not None:
        print_table(_plan_rows(plan), title=f"Tasks from {start}")
    else:
        print_table([{"key": x.key, "title": x.title, "start_day": x.start, "due_day": x.due,
                      "depends_on": ", ".join(x.depends_on)} for x in t.tasks], title="Tasks (days after the start)")


@templates_app.command("use")
def templates_use(name: Annotated[str, typer.Argument(help="The template's name.")],
                  start: Annotated[str, typer.Option("--start", help="Start date, YYYY-MM-DD.")],
                  owner: Annotated[str, typer.Option("--owner", help="Who runs the initiative (tasks default to them).")],
                  set_: Annotated[list[str] | None, typer.Option("--set", help="key=value for a placeholder "
                                                                             "(repeat for several).")] = None,
                  as_json: JsonOpt = False, workspace: WorkspaceOpt = Path(".")) -> None:
    """Create an initiative with its tasks from a template."""
    from marketops.library.templates import get_template, parse_values, use_template
    from marketops.plan.tasks import task_json

    ws = _workspace(workspace)
    t = _run(lambda: get_template(_templates_folder(ws), name, ws.root))
    values = _run(lambda: parse_values(set_))
    with app_session(ws.root) as session:
        result = use_template(session, t, start=start, owner=owner, values=values, actor=ACTOR)
        out = {"initiative": {"id": result.initiative.id, "title": result.initiative.title,
                              "start_date": result.initiative.start_date, "end_date": result.initiative.end_date,
                              "owner": result.initiative.owner, "status": result.initiative.status},
               "tasks": [task_json(x) for x in result.tasks], "template": t.name}
    if as_json:
        print_json(out)
        return
    i = out["initiative"]
    console.print(f"Created initiative {i['id']}: [bold]{i['title']}[/bold] ({i['start_date']} → {i['end_date']}) "
                  f"with {len(out['tasks'])} tasks", highlight=False)
    print_table([{"id": x["id"], "title": x["title"], "owner": x["owner"], "start": x["start"], "due": x["due"],
                  "depends_on": ", ".join(map(str, x["depends_on"]))} for x in out["tasks"]])


# -- assets --------------------------------------------------------------------------------------------
ASSET_LIST_COLUMNS = ["id", "name", "type", "owner", "tags", "expires_on", "status", "location"]
STATUS_STYLE = {"expired": "bold red", "expiring": "yellow", "ok": ""}


def _rules(ws) -> tuple[int, list[str]]:
    cfg = ws.config.library
    return cfg.asset_expiry_warning_days, cfg.asset_types


def _asset_rows(assets, days: int) -> list[dict[str, Any]]:
    from marketops.library.assets import asset_json

    return [asset_json(a, days=days) for a in assets]


def _print_assets(rows: list[dict[str, Any]], title: str) -> None:
    from rich.markup import escape

    shown = [{**r, "tags": ", ".join(r["tags"]),
              "status": f"[{STATUS_STYLE[r['status']]}]{r['status']}[/]" if STATUS_STYLE[r["status"]] else r["status"]}
             for r in rows]
    shown = [{k: (v if k == "status" else escape(str(v)) if isinstance(v, str) else v) for k, v in r.items()}
             for r in shown]
    print_table(shown, ASSET_LIST_COLUMNS, title=title)


Rights = Annotated[str | None, typer.Option("--rights", help="Usage rights in words (what the licence allows).")]
Expires = Annotated[str | None, typer.Option("--expires", help="Last day it may be used, YYYY-MM-DD.")]


@assets_app.command("add")
def assets_add(name: Annotated[str, typer.Argument(help="The asset's name.")],
               type_: Annotated[str, typer.Option("--type", help="image, video, document, logo... "
                                                  "(library.asset_types).")],
               location: Annotated[str, typer.Option("--location", help="File path or URL.")] = "",
               tags: Annotated[str, typer.Option("--tags", help="Comma-separated tags.")] = "",
               owner: Annotated[str, typer.Option("--owner", help="Who looks after it.")] = "",
               rights: Rights = None, expires: Expires = None,
               notes: Annotated[str, typer.Option("--notes", help="Anything else.")] = "",
               as_json: JsonOpt = False, workspace: WorkspaceOpt = Path(".")) -> None:
    """Add an asset to the register."""
    from marketops.library.assets import asset_json, create_asset

    ws = _workspace(workspace)
    days, types = _rules(ws)
    with app_session(ws.root) as session:
        a = create_asset(session, name=name, type=type_, location=location, tags=tags, owner=owner,
                         usage_rights=rights or "", expires_on=expires, notes=notes, types=types, actor=ACTOR)
        out = asset_json(a, days=days)
    if as_json:
        print_json(out)
    else:
        console.print(f"Added asset {out['id']}: [bold]{out['name']}[/bold] ({out['status']})", highlight=False)


@assets_app.command("list")
def assets_list(type_: Annotated[str | None, typer.Option("--type", help="Only this type.")] = None,
                tag: Annotated[str | None, typer.Option("--tag", help="Only assets with this tag.")] = None,
                owner: Annotated[str | None, typer.Option("--owner", help="Only this owner's.")] = None,
                status: Annotated[str | None, typer.Option("--status", help="expired, expiring or ok.")] = None,
                q: Annotated[str | None, typer.Option("--search", "-q", help="Part of the name, location or "
                                                      "rights.")] = None,
                as_json: JsonOpt = False, csv_: CsvOpt = None, xlsx: XlsxOpt = None,
                workspace: WorkspaceOpt = Path(".")) -> None:
    """The register: expired first, then by expiry date."""
    from marketops.library.assets import EXPORT_COLUMNS, list_assets

    ws = _workspace(workspace)
    days, _ = _rules(ws)
    with app_session(ws.root) as session:
        rows = _asset_rows(list_assets(session, type=type_, tag=tag, owner=owner, status=status, q=q, days=days), days)
    _files(rows, list(EXPORT_COLUMNS), csv_, xlsx)
    if as_json:
        print_json(rows)
    elif not rows:
        console.print("No assets match." if any((type_, tag, owner, status, q)) else
                      "The register is empty: `marketops assets add NAME --type image`")
    else:
        _print_assets(rows, "Assets")


@assets_app.command("show")
def assets_show(asset_id: Annotated[int, typer.Argument(help="The asset's id.")], as_json: JsonOpt = False,
                workspace: WorkspaceOpt = Path(".")) -> None:
    """One asset with its usage rights and notes."""
    from marketops.library.assets import asset_json, get_asset, warning_text

    ws = _workspace(workspace)
    days, _ = _rules(ws)
    with app_session(ws.root) as session:
        a = get_asset(session, asset_id)
        out, words = asset_json(a, days=days), warning_text(a)
    if as_json:
        print_json(out)
        return
    for key in ("id", "name", "type", "location", "owner", "tags", "expires_on", "status", "usage_rights", "notes"):
        value = ", ".join(out[key]) if key == "tags" else out[key]
        console.print(f"[dim]{key:>12}[/]  {'' if value is None else value}", highlight=False)
    if out["status"] != "ok":
        console.print(f"[{STATUS_STYLE[out['status']]}]{words}[/]", highlight=False)


@assets_app.command("update")
def assets_update(asset_id: Annotated[int, typer.Argument(help="The asset's id.")],
                  name: Annotated[str | None, typer.Option("--name")] = None,
                  type_: Annotated[str | None, typer.Option("--type")] = None,
                  location: Annotated[str | None, typer.Option("--location")] = None,
                  tags: Annotated[str | None, typer.Option("--tags", help="Comma-separated; replaces the tags.")] = None,
                  owner: Annotated[str | None, typer.Option("--owner")] = None,
                  rights: Rights = None,
                  expires: Annotated[str | None, typer.Option("--expires", help="YYYY-MM-DD; 'none' clears it.")] = None,
                  notes: Annotated[str | None, typer.Option("--notes")] = None,
                  as_json: JsonOpt = False, workspace: WorkspaceOpt = Path(".")) -> None:
    """Change some fields of an asset."""
    from marketops.library.assets import asset_json, update_asset

    ws = _workspace(workspace)
    days, types = _rules(ws)
    changes = {k: v for k, v in {"name": name, "type": type_, "location": location, "tags": tags, "owner": owner,
                                 "usage_rights": rights, "notes": notes}.items() if v is not None}
    if expires is not None:
        changes["expires_on"] = None if expires.strip().lower() in ("", "none", "never") else expires
    if not changes:
        fail("nothing to change: give at least one of --name, --type, --location, --tags, --owner, --rights, "
             "--expires, --notes")
    with app_session(ws.root) as session:
        out = asset_json(update_asset(session, asset_id, changes, actor=ACTOR, types=types), days=days)
    if as_json:
        print_json(out)
    else:
        console.print(f"Saved asset {out['id']}: [bold]{out['name']}[/bold] ({out['status']})", highlight=False)


@assets_app.command("remove")
def assets_remove(asset_id: Annotated[int, typer.Argument(help="The asset's id.")],
                  workspace: WorkspaceOpt = Path(".")) -> None:
    """Remove an asset from the register (its history stays in the audit log)."""
    from marketops.library.assets import delete_asset

    ws = _workspace(workspace)
    with app_session(ws.root) as session:
        delete_asset(session, asset_id, actor=ACTOR)
    console.print(f"Removed asset {asset_id}")


@assets_app.command("expiring")
def assets_expiring(days: Annotated[int | None, typer.Option("--days", min=0, help="Window in days (default: "
                                                             "library.asset_expiry_warning_days).")] = None,
                    on: Annotated[str | None, typer.Option("--on", help="Judge on this day (default: today).")] = None,
                    as_json: JsonOpt = False, csv_: CsvOpt = None, xlsx: XlsxOpt = None,
                    workspace: WorkspaceOpt = Path(".")) -> None:
    """Assets whose usage rights have ended or end within the warning window."""
    from marketops.library.assets import EXPORT_COLUMNS, asset_json, expiring_assets, warning_text

    ws = _workspace(workspace)
    window = days if days is not None else _rules(ws)[0]
    try:
        today = dt.date.fromisoformat(on) if on else dt.date.today()
    except ValueError:
        fail(f"--on must be a date like 2027-01-31, not '{on}'")
    with app_session(ws.root) as session:
        found = expiring_assets(session, today=today, days=window)
        rows = [{**asset_json(a, today=today, days=window), "message": warning_text(a, today)} for a in found]
    _files(rows, [*EXPORT_COLUMNS, "message"], csv_, xlsx)
    if as_json:
        print_json(rows)
    elif not rows:
        console.print(f"No asset has expired or expires within {window} days.")
    else:
        _print_assets(rows, f"Expired or expiring within {window} days (as of {today.isoformat()})")
