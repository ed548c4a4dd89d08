"""The web app (FastAPI, server-rendered pages) and the REST API. Only this package imports FastAPI.

Start it with ``marketops serve``; build it in code with :func:`create_app`.
"""

from marketops.app.main import create_app

__all__ = ["create_app"]
