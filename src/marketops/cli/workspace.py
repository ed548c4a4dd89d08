"""`marketops init` and `marketops sample`: create a workspace, fill it with the sample company."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from marketops.cli.output import JsonOpt, console, print_json, print_table
from marketops.workspace import Workspace

app = typer.Typer()

Contacts = Annotated[int, typer.Option("--contacts", "-n", min=10, help="Number of contacts to generate.")]
Months = Annotated[int, typer.Option("--months", "-m", min=1, max=120, help="Months of history.")]
Seed = Annotated[int, typer.Option("--seed", "-s", help="Random seed: the same seed gives the same files.")]


def generate_sample(out: Path, contacts: int, months: int, seed: int):
    """Run the sample generator with a progress bar per stage."""
    from marketops.sample import generate

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        return generate(out, contacts=contacts, months=months, seed=seed, progress=progress)


def add_sample_leads_config(config_file: Path) -> bool:
    """Append the sample company's ``leads:`` section (reps as routing owners, team calendars) to a
    workspace's marketops.yaml, unless the file already has a ``leads:`` section of its own."""
    import re

    from marketops.sample.sales import leads_yaml

    text = config_file.read_text(encoding="utf-8")
    if re.search(r"^leads\s*:", text, re.MULTILINE):
        return False  # the user's own rules win: never a second leads: key
    config_file.write_text(text.rstrip("\n") + "\n" + leads_yaml(), encoding="utf-8")
    return True


@app.command("init")
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create (or complete).")],
    sample: Annotated[bool, typer.Option("--sample", help="Fill inbox/ with the sample company's exports.")] = False,
    name: Annotated[str | None, typer.Option(help="Workspace name shown in reports.")] = None,
    contacts: Contacts = 20_000,
    months: Months = 12,
    seed: Seed = 7,
) -> None:
    """Create a workspace: marketops.yaml with commented defaults, inbox/ and .marketops/."""
    ws = Workspace.init(directory, name=name)
    console.print(f"[green]Workspace ready[/] at {ws.root}  (settings: {ws.root / 'marketops.yaml'})")
    from marketops.state.users import ensure_admin

    created = ensure_admin(ws.app_database_url, email=ws.env.admin_email, password=ws.env.admin_password)
    if created:
        email, password = created
        shown = "(from MARKETOPS_ADMIN_PASSWORD)" if ws.env.admin_password else password
        console.print(f"First admin for the web app: [bold]{email}[/]  password: [bold]{shown}[/]  "
                      "[dim](shown once; change it after logging in)[/]")
    if sample:
        summary = generate_sample(ws.root, contacts, months, seed)
        console.print(f"Sample company: {summary.contacts:,} contacts over {summary.months} months "
                      f"-> {len(summary.files)} files in {ws.inbox}")
        if add_sample_leads_config(ws.root / "marketops.yaml"):
            console.print("Sales side: the sample's reps, teams and speed-to-lead calendars are in the "
                          "leads: section of marketops.yaml")
        from marketops.sample.stack import seed_sample_stack

        seed_sample_stack(ws)  # the martech registry: tools, costs, integrations
        from marketops.sample.utm import seed_sample_utm

        seed_sample_utm(ws)  # the utm: taxonomy in marketops.yaml and a few links in the register
        from marketops.sample.consent import seed_sample_consent

        seed_sample_consent(ws)  # inbox/consent_log.csv: the consent platform's export
        from marketops.sample.library import seed_sample_library

        seed_sample_library(ws)  # playbooks/*.md and the asset register
    console.print("Next: [bold]marketops run -w " + str(directory) + "[/]")
    ws.close()


@app.command("sample")
def sample(
    directory: Annotated[Path, typer.Argument(help="Folder for inbox/ (exports) and truth/ (answers).")],
    contacts: Contacts = 20_000,
    months: Months = 12,
    seed: Seed = 7,
    json_: JsonOpt = False,
) -> None:
    """Generate the sample company's exports, with the truth beside them for scoring."""
    summary = generate_sample(directory, contacts, months, seed)
    rows = [{"file": f, "rows": n} for f, n in summary.files.items()]
    if json_:
        print_json({"contacts": summary.contacts, "months": summary.months, "seed": summary.seed,
                    "truth_dir": str(summary.truth_dir), "files": summary.files})
        return
    print_table(rows, title=f"Sample company in {directory / 'inbox'}")
    console.print(f"Truth (which records are one person, true channel effects): {summary.truth_dir}")
