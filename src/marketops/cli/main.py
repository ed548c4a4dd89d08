"""The `marketops` command: one Typer app, a module per command group.

Every error marketops raises on purpose is shown as a plain sentence (and a hint), never a
traceback; ``MARKETOPS_DEBUG=1`` shows the traceback for bug reports.
"""

from __future__ import annotations

import os
import sys

import typer

from marketops.cli import ingest, pipeline, tables, workspace
from marketops.cli.output import fail
from marketops.errors import MarketopsError

app = typer.Typer(name="marketops", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="marketops: a self-hosted marketing operations hub.")

for group in (workspace, ingest, pipeline, tables):
    app.registered_commands += group.app.registered_commands


def _register_optional() -> None:
    from marketops.cli import (
        alerts,
        attribution,
        budgets,
        channels,
        funnel,
        goals,
        initiatives,
        leads,
        metrics,
        quality,
        review,
        serve,
        slas,
        tasks,
        tokens,
        users,
    )
    from marketops.cli import library

    library.register(app)  # playbooks, templates, assets
    app.add_typer(channels.app, name="channels", help="Channel grouping: which channel a visit belongs to, and why.")
    app.add_typer(users.app, name="users", help="Web app users and roles.")
    app.add_typer(tokens.app, name="tokens", help="API tokens.")
    app.add_typer(review.app, name="review", help="Review uncertain identity matches; merge decisions and undo.")
    app.add_typer(goals.app, name="goals", help="SMART goals bound to metrics: progress, forecast and status.")
    app.add_typer(initiatives.app, name="initiatives", help="Initiatives from user stories: stakeholders, goals, plan.")
    app.add_typer(tasks.app, name="tasks", help="Tasks of initiatives: owners, due dates, dependencies, CSV.")
    app.add_typer(budgets.app, name="budget", help="Budget plan per channel and month: actuals, variance, pacing.")
    app.add_typer(slas.app, name="slas", help="Internal SLAs between teams: compliance per period.")
    app.add_typer(alerts.app, name="alerts", help="Goals at risk, pacing problems, SLA breaches, overdue tasks; digest.")
    app.add_typer(leads.app, name="leads", help="Leads to sales: stages and definitions, scoring, routing, "
                  "speed-to-lead SLA, handoff quality.")
    from marketops.cli import stack

    app.add_typer(stack.app, name="stack", help="The martech stack: tools, costs, integrations, audit, evaluations.")
    from marketops.cli import utm

    app.add_typer(utm.app, name="utm", help="UTM governance: taxonomy, link builder and register, compliance.")
    from marketops.cli import privacy

    privacy.register(app)  # consent, suppress, erase, person export, audience, retention
    app.command("quality")(quality.quality)
    app.command("attribution")(attribution.attribution_command)
    app.command("funnel")(funnel.funnel_command)
    app.command("metrics")(metrics.metrics)
    app.command("serve")(serve.serve)


_register_optional()


def main() -> None:
    try:
        app()
    except MarketopsError as e:
        if os.environ.get("MARKETOPS_DEBUG"):
            raise
        try:
            fail(e.message, e.hint)
        except typer.Exit as exit_:
            sys.exit(exit_.exit_code)


if __name__ == "__main__":
    main()
