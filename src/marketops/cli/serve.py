"""``marketops serve``: the web app on this machine."""

from __future__ import annotations

from pathlib import Path

import typer

from marketops.cli.output import WorkspaceOpt, console, fail
from marketops.errors import MarketopsError
from marketops.state.users import ensure_admin
from marketops.workspace import Workspace


def serve(workspace: WorkspaceOpt = Path("."),
          host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on; 0.0.0.0 for every interface."),
          port: int = typer.Option(8000, "--port", "-p", envvar="PORT", help="Port to listen on.")) -> None:
    """Serve the web app; on the first start, create the first admin and print its password once."""
    import uvicorn

    from marketops.app import create_app

    try:
        ws = Workspace.open(workspace)
        app = create_app(ws.root)
        created = ensure_admin(ws.app_database_url, ws.env.admin_email, ws.env.admin_password)
    except MarketopsError as e:
        fail(e.message, e.hint)
    if created:
        email, password = created
        console.print(f"Created the first admin: [bold]{email}[/bold]")
        if not ws.env.admin_password:
            console.print(f"Password: [bold]{password}[/bold]  (shown once; change it with "
                          "`marketops users set-password`)", highlight=False)
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    console.print(f"marketops is serving [bold]{ws.config.name}[/bold] at [link]http://{shown}:{port}[/link]  "
                  "(Ctrl+C to stop)", highlight=False)
    # proxy_headers: behind a trusted reverse proxy, https and the client address come through, so
    # session cookies get the Secure flag and rate limits see the real client.
    uvicorn.run(app, host=host, port=port, proxy_headers=True, log_level="info")
