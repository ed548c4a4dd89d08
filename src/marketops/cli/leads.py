"""`marketops leads`: scoring, routing, the speed-to-lead SLA, lifecycle and handoff quality.

Each concern keeps its commands in its own module; this one gathers them into one group.
"""

from __future__ import annotations

import typer

from marketops.cli import leads_lifecycle, leads_routing, leads_scoring, leads_sla

app = typer.Typer(no_args_is_help=True)

for module in (leads_lifecycle, leads_scoring, leads_routing, leads_sla):
    module.register(app)
