"""Static assets that come from installed packages rather than ``app/static``: the Plotly bundle
from the plotly wheel. Anonymous like every static asset (the login page needs none of it, but
an asset reveals nothing private), cached for a day.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from marketops.app.charts import plotly_js

router = APIRouter()


@router.get("/static/vendor/plotly.min.js", include_in_schema=False)
def plotly_bundle() -> FileResponse:
    return FileResponse(plotly_js(), media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=86400"})
