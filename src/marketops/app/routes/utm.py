"""UTM governance: ``GET /utm`` (the link builder with a live preview, the register of built links and
the compliance of the ingested touchpoints with the taxonomy) and its API:

- ``POST /api/v1/utm/build`` (editors): a compliant tagged link, kept in the register (the same link
  again returns the existing entry, ``created: false``); a link that breaks the taxonomy answers 422
  with every problem and its fix (``fix: true`` applies the fixes);
- ``GET /api/v1/utm/preview``: what ``build`` would answer, without keeping anything (the page's preview);
- ``GET /api/v1/utm/links``: the register, newest first (``format=csv|xlsx``);
- ``GET /api/v1/utm/compliance``: the compliance rate, per source system and parameter, and the most
  frequent problems with their fixes (``format=csv|xlsx``: those problems);
- ``GET /api/v1/utm/violations``: every flagged touchpoint and parameter (``format=csv|xlsx``).

Viewers read; editors build links (audited as ``utm.link``); the taxonomy lives in marketops.yaml.
"""

from __future__ import annotations

from typing import Annotated, Any

import pyarrow as pa
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from marketops.app.deps import DB, Editor, Reader, client_ip, form_csrf, read_workspace
from marketops.app.downloads import Format, Limit, Offset, page_json
from marketops.app.render import N_, render
from marketops.app.routes.metrics import analysis, file_of
from marketops.app.routes.settings import flash, pop_flash
from marketops.errors import ValidationFailed
from marketops.quality.utm_builder import UtmRefused, build_link
from marketops.quality.utm_ingestion import VIOLATION_COLUMNS, empty_violations, workspace_report
from marketops.quality.utm_taxonomy import UtmTaxonomy
from marketops.state.utm_links import COLUMNS, link_json, register_link, search_links
from marketops.workspace import Workspace

router = APIRouter()

PAGE_SIZE = 25
TOP_COLUMNS = ["source_system", "param", "value", "suggested_fix", "problem", "touchpoints"]
SearchQ = Annotated[str, Query(description="Text in the URL, values, creator or notes.")]
CampaignQ = Annotated[str, Query(description="Only links of this campaign.")]


class BuildBody(BaseModel):
    url: str = Field(min_length=1, max_length=4000, description="Landing page, e.g. https://acme.com/pricing.")
    source: str | None = Field(default=None, max_length=500, description="utm_source.")
    medium: str | None = Field(default=None, max_length=500, description="utm_medium.")
    campaign: str | None = Field(default=None, max_length=500, description="utm_campaign.")
    term: str | None = Field(default=None, max_length=500, description="utm_term.")
    content: str | None = Field(default=None, max_length=500, description="utm_content.")
    fix: bool = Field(default=False, description="Apply the suggested fixes instead of refusing.")
    notes: str = Field(default="", max_length=2000, description="A note kept with the link.")

    def values(self) -> dict[str, str | None]:
        return {"source": self.source, "medium": self.medium, "campaign": self.campaign, "term": self.term,
                "content": self.content}


def _taxonomy(request: Request) -> UtmTaxonomy:
    with read_workspace(request) as ws:
        return ws.config.utm


def _report(ws: Workspace) -> dict[str, Any]:
    return workspace_report(ws).to_json()


def _violations(ws: Workspace) -> pa.Table:
    report = workspace_report(ws)
    if report.violations is None:
        return empty_violations()
    return report.violations.select(*VIOLATION_COLUMNS).order_by("source_system", "record_key", "param").to_pyarrow()


def _refused(e: UtmRefused) -> JSONResponse:
    return JSONResponse({"error": {"code": "invalid", "message": e.message,
                                   "problems": [p.to_json() for p in e.problems]}}, status_code=422)


def _can_edit(request: Request) -> bool:
    user = getattr(request.state, "user", None)
    return user is not None and user.role in ("admin", "editor")


# -- the page -------------------------------------------------------------------------------------------

def _page(request: Request, db: Any, *, q: str = "", campaign: str = "", limit: int = PAGE_SIZE, offset: int = 0,
          form: dict[str, Any] | None = None, problems: list[Any] | None = None, error: str | None = None,
          status_code: int = 200) -> Response:
    tax = _taxonomy(request)
    found, total = search_links(db, q=q or None, campaign=campaign or None, limit=limit, offset=offset)
    report = analysis(request, "utm_compliance", _report)
    params = {"q": q, "campaign": campaign}
    query = "&".join(f"{k}={v}" for k, v in params.items() if v)
    return render(request, "utm.html", {
        "tax": tax, "links": [link_json(x) for x in found], "total": total, "report": report,
        "editor": _can_edit(request), "form": form or {"fix": False}, "problems": problems or [], "error": error,
        "params": params, "q": query, "limit": limit, "offset": offset, "flash": pop_flash(request)},
        status_code=status_code)


@router.get("/utm")
def utm_page(request: Request, user: Reader, db: DB, q: SearchQ = "", campaign: CampaignQ = "",
             limit: Limit = PAGE_SIZE, offset: Offset = 0) -> Response:
    return _page(request, db, q=q, campaign=campaign, limit=limit, offset=offset)


@router.post("/utm/build", dependencies=[Depends(form_csrf)])
def build_form(request: Request, user: Editor, db: DB, url: Annotated[str, Form()] = "",
               source: Annotated[str, Form()] = "", medium: Annotated[str, Form()] = "",
               campaign: Annotated[str, Form()] = "", term: Annotated[str, Form()] = "",
               content: Annotated[str, Form()] = "", notes: Annotated[str, Form()] = "",
               fix: Annotated[bool, Form()] = False) -> Response:
    form = {"url": url, "source": source, "medium": medium, "campaign": campaign, "term": term, "content": content,
            "notes": notes, "fix": fix}
    values = {k: form[k] for k in ("source", "medium", "campaign", "term", "content")}
    try:
        link = build_link(url, values, _taxonomy(request), fix=fix)
    except UtmRefused as e:
        return _page(request, db, form=form, problems=e.problems, status_code=422)
    except ValidationFailed as e:
        return _page(request, db, form=form, error=e.message, status_code=422)
    entry, created = register_link(db, link, actor=user.email, notes=notes, ip=client_ip(request))
    db.commit()
    flash(request, N_("Link ready: %(url)s") if created else N_("This link is already in the register: %(url)s"),
          url=entry.final_url)
    return RedirectResponse(f"/utm?built={entry.id}", status_code=303)


# -- the API ----------------------------------------------------------------------------------------------

@router.post("/api/v1/utm/build", response_model=None)
def build_api(request: Request, body: BuildBody, user: Editor, db: DB) -> Any:
    """Build a tagged link and keep it in the register: ``{"url", "final_url", "params", "fixed": [problems
    fixed], "created", "link": the register entry}``. A link that breaks the taxonomy answers 422 with
    ``error.problems`` (``param``, ``value``, ``codes``, ``message``, ``fix``)."""
    try:
        link = build_link(body.url, body.values(), _taxonomy(request), fix=body.fix)
    except UtmRefused as e:
        return _refused(e)
    entry, created = register_link(db, link, actor=user.email, notes=body.notes, ip=client_ip(request))
    db.commit()
    return {**link.to_json(), "created": created, "link": link_json(entry)}


@router.get("/api/v1/utm/preview", response_model=None)
def preview_api(request: Request, user: Reader, url: str = "", source: str = "", medium: str = "",
                campaign: str = "", term: str = "", content: str = "", fix: bool = False) -> Any:
    """What ``build`` would answer for these values, without keeping anything: ``{"ok", "final_url",
    "problems", "fixed"}`` (``ok`` false: the link would be refused, or the address is not a web page)."""
    values = {"source": source, "medium": medium, "campaign": campaign, "term": term, "content": content}
    tax = _taxonomy(request)
    try:
        link = build_link(url, values, tax, fix=fix)
    except UtmRefused as e:
        return {"ok": False, "final_url": None, "problems": [p.to_json() for p in e.problems], "error": e.message}
    except ValidationFailed as e:
        return {"ok": False, "final_url": None, "problems": [], "error": e.message}
    return {"ok": True, "final_url": link.final_url, "problems": [], "fixed": [p.to_json() for p in link.fixed],
            "checked": tax.configured}


@router.get("/api/v1/utm/links", response_model=None)
def links_api(user: Reader, db: DB, q: SearchQ = "", campaign: CampaignQ = "", limit: Limit = 100,
              offset: Offset = 0, format: Format = "json") -> Any:
    """The register of built links, newest first: ``id``, ``final_url``, ``url``, ``source``, ``medium``,
    ``campaign``, ``term``, ``content``, ``created_by``, ``created_at``, ``notes``."""
    every = format != "json"
    found, total = search_links(db, q=q or None, campaign=campaign or None, limit=None if every else limit,
                                offset=0 if every else offset)
    rows = [link_json(x) for x in found]
    if every:
        return file_of(rows, list(COLUMNS), "utm_links", format)
    return page_json(rows, total, limit, offset)


@router.get("/api/v1/utm/compliance", response_model=None)
def compliance_api(request: Request, user: Reader, format: Format = "json") -> Any:
    """Compliance of the ingested touchpoints with the taxonomy (as marketops.yaml says now):
    ``{"configured", "touchpoints", "tagged", "compliant", "rate", "by_system", "by_param", "top"}``;
    ``rate`` is compliant / tagged (null without a taxonomy). ``format=csv|xlsx``: the most frequent problems."""
    report = analysis(request, "utm_compliance", _report)
    if format != "json":
        return file_of(report["top"], TOP_COLUMNS, "utm_compliance", format)
    return report


@router.get("/api/v1/utm/violations", response_model=None)
def violations_api(request: Request, user: Reader, limit: Limit = 100, offset: Offset = 0,
                   format: Format = "json") -> Any:
    """Every tagged touchpoint and parameter that breaks the taxonomy: ``record_key``, ``source_system``,
    ``source_file``, ``source_row``, ``occurred_at``, ``param``, ``value``, ``problem``, ``suggested_fix``."""
    table = analysis(request, "utm_violations", _violations)
    if format != "json":
        return file_of(table.to_pylist(), list(VIOLATION_COLUMNS), "utm_violations", format)
    return page_json(table.slice(offset, limit).to_pylist(), table.num_rows, limit, offset)
