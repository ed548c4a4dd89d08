"""How the CLI shows things: rich tables for people, ``--json`` for scripts, plain-language errors.

Everything that prints lives under ``cli/``; the layers below return data.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console()
err_console = Console(stderr=True, soft_wrap=True)

WorkspaceOpt = Annotated[Path, typer.Option("--workspace", "-w", envvar="MARKETOPS_WORKSPACE",
                                            help="Workspace folder (default: this folder or a parent).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _default(v: Any) -> Any:
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, Path):
        return str(v)
    if hasattr(v, "__dict__"):
        return {k: x for k, x in vars(v).items() if not k.startswith("_") and k != "error"}
    return str(v)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, default=_default, indent=2, ensure_ascii=False) + "\n")


def fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float | Decimal):
        return f"{v:,.2f}"
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M")
    return str(v)


def print_table(rows: Sequence[dict], columns: Iterable[str] | None = None, *, title: str | None = None,
                styles: dict[str, str] | None = None) -> None:
    """A rich table of ``rows`` (dicts); numbers right-aligned."""
    rows = list(rows)
    columns = list(columns or (rows[0].keys() if rows else []))
    table = Table(title=title, header_style="bold", show_lines=False)
    for c in columns:
        numeric = bool(rows) and all(isinstance(r.get(c), int | float | Decimal) or r.get(c) in (None, "")
                                     for r in rows)
        table.add_column(c.replace("_", " "), justify="right" if numeric else "left",
                         style=(styles or {}).get(c), overflow="fold")
    for r in rows:
        table.add_row(*(fmt(r.get(c)) for c in columns))
    console.print(table)


def fail(message: str, hint: str | None = None, code: int = 1) -> None:
    # Messages quote what users typed ("[persona]", file names with brackets): never markup.
    err_console.print(f"[bold red]Error:[/] {escape(message)}", highlight=False)
    if hint:
        err_console.print(f"  [dim]hint:[/] {escape(hint)}", highlight=False)
    raise typer.Exit(code)
