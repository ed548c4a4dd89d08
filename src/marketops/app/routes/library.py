"""The library's JSON API (the pages and their forms are in :mod:`.library_pages`):

- ``GET /api/v1/playbooks`` (``?q=`` full-text search with snippets, ``?tag=``, ``?owner=``;
  ``?format=csv|xlsx``), ``POST /api/v1/playbooks`` (editor), ``GET/PUT /api/v1/playbooks/{slug}``
  (the markdown and its sanitised HTML; PUT: editor);
- ``GET /api/v1/templates``, ``GET /api/v1/templates/{name}`` (``?start=&owner=`` previews the
  dates), ``POST /api/v1/templates/{name}/use`` (editor): creates the initiative and its tasks;
- ``GET /api/v1/assets`` (filters ``type``, ``tag``, ``owner``, ``status``, ``q``; ``?format=csv|xlsx``),
  ``POST /api/v1/assets`` (editor), ``GET/PATCH/DELETE /api/v1/assets/{id}`` (PATCH/DELETE: editor).

Viewers read; editors and admins change (tokens need ``write``). Every change is audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from marketops.app.deps import DB, Editor, Reader, client_ip
from marketops.app.downloads import Format, Limit, Offset, page_json
from marketops.app.errors import api_error
from marketops.app.overview import _jsonable
from marketops.app.library_context import (
    library_config,
    playbooks_dir,
    root_of,
    save_playbook_as,
    search_index,
    templates_dir,
    use_template_as,
)
from marketops.app.routes import library_pages
from marketops.app.routes.metrics import file_of
from marketops.errors import ConfigError, ValidationFailed
from marketops.library import assets as asset_register
from marketops.library import playbooks as pb
from marketops.library import templates as tpl
from marketops.library.markdown import render_markdown
from marketops.plan.tasks import task_json

router = APIRouter()

PLAYBOOK_COLUMNS = ["slug", "title", "owner", "tags", "updated", "file"]
HIT_COLUMNS = ["slug", "title", "score", "snippet", "tags", "owner"]
TEMPLATE_COLUMNS = ["name", "title", "source", "tasks", "required", "used", "description"]


def _invalid(message: str, code: str = "invalid") -> JSONResponse:
    return api_error(400, message, code=code)


# -- playbooks -----------------------------------------------------------------------------------------
class PlaybookIn(BaseModel):
    """A new playbook (its slug defaults to one made from the title)."""

    model_config = ConfigDict(extra="forbid")
    title: str = Field(max_length=300)
    body: str = Field("", max_length=500_000, description="Markdown.")
    owner: str = Field("", max_length=320)
    tags: list[str] = Field(default_factory=list)
    slug: str | None = Field(None, max_length=100, description="File name without .md (default: from the title).")


class PlaybookChange(BaseModel):
    """A playbook's new content (fields left out keep their value)."""

    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, max_length=300)
    body: str | None = Field(None, max_length=500_000)
    owner: str | None = Field(None, max_length=320)
    tags: list[str] | None = None


def playbook_out(p: pb.Playbook, *, body: bool = False) -> dict[str, Any]:
    out = _jsonable(p.summary())
    if body:
        out["body"] = p.body
        out["html"] = render_markdown(p.body)
    return out


@router.get("/api/v1/playbooks", response_model=None)
def playbooks_api(request: Request, user: Reader,
                  q: Annotated[str | None, Query(max_length=400, description="Full-text search.")] = None,
                  tag: Annotated[str | None, Query(max_length=60)] = None,
                  owner: Annotated[str | None, Query(max_length=320)] = None,
                  limit: Limit = 100, offset: Offset = 0, format: Format = "json") -> Any:
    """Playbooks by title; with ``q``, the search hits best first (``score``, ``snippet``,
    ``snippet_html`` with the matched words in ``<mark>``)."""
    if q and q.strip():
        hits = [h.to_json() for h in search_index(request).search(q, limit=500, tag=tag)]
        if owner:
            hits = [h for h in hits if h["owner"].lower() == owner.strip().lower()]
        if format != "json":
            return file_of([{**h, "tags": ", ".join(h["tags"])} for h in hits], HIT_COLUMNS, "playbook_search", format)
        return page_json(hits[offset:offset + limit], len(hits), limit, offset, query=q)
    found = pb.filter_playbooks(pb.load_playbooks(playbooks_dir(request), root_of(request)), tag=tag, owner=owner)
    if format != "json":
        rows = [{**p.summary(), "tags": ", ".join(p.tags)} for p in found]
        return file_of([{c: r[c] for c in PLAYBOOK_COLUMNS} for r in rows], PLAYBOOK_COLUMNS, "playbooks", format)
    return page_json([playbook_out(p) for p in found[offset:offset + limit]], len(found), limit, offset,
                     tags=pb.tag_counts(found))


@router.post("/api/v1/playbooks", status_code=201, response_model=None)
def create_playbook_api(request: Request, body: PlaybookIn, user: Editor, db: DB) -> Any:
    """Create a playbook file in the playbooks folder."""
    try:
        p = save_playbook_as(request, db, user, create=True, slug=body.slug, title=body.title, body=body.body,
                             owner=body.owner, tags=body.tags)
    except ValidationFailed as e:
        db.rollback()
        return _invalid(e.message, "invalid_playbook")
    return playbook_out(p, body=True)


@router.get("/api/v1/playbooks/{slug}")
def playbook_api(request: Request, slug: str, user: Reader) -> dict:
    """One playbook: metadata, ``body`` (markdown) and ``html`` (rendered, no raw HTML from the file)."""
    return playbook_out(pb.get_playbook(playbooks_dir(request), slug, root_of(request)), body=True)


@router.put("/api/v1/playbooks/{slug}", response_model=None)
def update_playbook_api(request: Request, slug: str, body: PlaybookChange, user: Editor, db: DB) -> Any:
    """Change a playbook's title, body, owner or tags (the file is rewritten, front matter included)."""
    old = pb.get_playbook(playbooks_dir(request), slug, root_of(request))
    try:
        p = save_playbook_as(request, db, user, create=False, slug=old.slug,
                             title=body.title if body.title is not None else old.title,
                             body=body.body if body.body is not None else old.body,
                             owner=body.owner if body.owner is not None else old.owner,
                             tags=body.tags if body.tags is not None else old.tags)
    except ValidationFailed as e:
        db.rollback()
        return _invalid(e.message, "invalid_playbook")
    return playbook_out(p, body=True)


# -- templates ---------------------------------------------------------------------------------------------
class TemplateUse(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: dt.date = Field(description="Start date: task dates count from it.")
    owner: str = Field(min_length=1, max_length=320, description="Who runs the initiative; tasks default to them.")
    values: dict[str, str] = Field(default_factory=dict, description="Placeholder values, e.g. {\"campaign\": ...}.")


def template_out(t: tpl.Template, used: int = 0) -> dict[str, Any]:
    return {**t.summary(), "used": used, "initiative": t.initiative.model_dump(),
            "task_list": [x.model_dump() for x in t.tasks]}


@router.get("/api/v1/templates", response_model=None)
def templates_api(request: Request, user: Reader, db: DB, format: Format = "json") -> Any:
    """Every template (built-in and the workspace's), with how often each was used; ``problems``
    lists workspace template files that could not be read."""
    found = tpl.load_templates(templates_dir(request), root_of(request))
    used = tpl.usage_counts(db)
    items = [template_out(t, used.get(n, 0)) for n, t in sorted(found.templates.items())]
    if format != "json":
        rows = [{**{c: i[c] for c in TEMPLATE_COLUMNS}, "required": ", ".join(i["required"])} for i in items]
        return file_of(rows, TEMPLATE_COLUMNS, "templates", format)
    return {"items": items, "total": len(items), "problems": found.problems}


@router.get("/api/v1/templates/{name}", response_model=None)
def template_api(request: Request, name: str, user: Reader, db: DB,
                 start: Annotated[dt.date | None, Query(description="Preview the dates from this start.")] = None,
                 owner: Annotated[str, Query(max_length=320)] = "owner") -> Any:
    """One template; with ``start``, ``preview`` holds the initiative and tasks it would create
    (placeholders without a value show their example)."""
    t = tpl.get_template(templates_dir(request), name, root_of(request))
    out = template_out(t, tpl.usage_counts(db).get(t.name, 0))
    if start is not None:
        plan = tpl.plan_from_template(t, start=start, owner=owner or "owner", values=tpl.preview_values(t))
        out["preview"] = _jsonable({"initiative": plan.initiative, "tasks": plan.tasks})
    return out


@router.post("/api/v1/templates/{name}/use", status_code=201, response_model=None)
def use_template_api(request: Request, name: str, body: TemplateUse, user: Editor, db: DB) -> Any:
    """Create an initiative with its tasks from the template: ``{"initiative": {...}, "tasks": [...]}``."""
    try:
        result = use_template_as(request, db, user, name, start=body.start, owner=body.owner, values=body.values)
    except ConfigError as e:
        return api_error(409, e.message, code="broken_template")
    except ValidationFailed as e:
        return _invalid(e.message, "invalid_template_use")
    i = result.initiative
    return _jsonable({"template": name, "initiative": {"id": i.id, "title": i.title, "story": i.story,
                                                       "owner": i.owner, "status": i.status,
                                                       "start_date": i.start_date, "end_date": i.end_date,
                                                       "link": f"/initiatives/{i.id}"},
                      "tasks": [task_json(x) for x in result.tasks]})


# -- assets --------------------------------------------------------------------------------------------
class AssetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=300)
    type: str = Field(max_length=40, description="One of library.asset_types (image, video, document, logo...).")
    location: str = Field("", max_length=2000, description="File path or URL.")
    tags: list[str] = Field(default_factory=list)
    owner: str = Field("", max_length=320)
    usage_rights: str = Field("", max_length=10_000)
    expires_on: dt.date | None = Field(None, description="The last day the asset may be used.")
    notes: str = Field("", max_length=10_000)


class AssetChange(BaseModel):
    """Fields to change; ``expires_on: null`` removes the end date."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, max_length=300)
    type: str | None = Field(None, max_length=40)
    location: str | None = Field(None, max_length=2000)
    tags: list[str] | None = None
    owner: str | None = Field(None, max_length=320)
    usage_rights: str | None = Field(None, max_length=10_000)
    expires_on: dt.date | None = None
    notes: str | None = Field(None, max_length=10_000)


def asset_out(request: Request, asset) -> dict[str, Any]:
    return _jsonable(asset_register.asset_json(asset, days=library_config(request).asset_expiry_warning_days))


@router.get("/api/v1/assets", response_model=None)
def assets_api(request: Request, user: Reader, db: DB,
               type: Annotated[str | None, Query(max_length=40)] = None,
               tag: Annotated[str | None, Query(max_length=60)] = None,
               owner: Annotated[str | None, Query(max_length=320)] = None,
               status: Annotated[str | None, Query(description="expired, expiring or ok.")] = None,
               q: Annotated[str | None, Query(max_length=200, description="Part of name, location or rights.")] = None,
               limit: Limit = 100, offset: Offset = 0, format: Format = "json") -> Any:
    """The register, expired first then by expiry date: ``{"items", "total", "limit", "offset",
    "counts": {"expired", "expiring", "ok"}, "warning_days"}``; ``?format=csv|xlsx`` every match."""
    days = library_config(request).asset_expiry_warning_days
    try:
        found = asset_register.list_assets(db, type=type, tag=tag, owner=owner, status=status, q=q, days=days)
    except ValidationFailed as e:
        return _invalid(e.message, "invalid_filter")
    if format != "json":
        rows = [asset_register.asset_row(a, days=days) for a in found]
        return file_of(rows, list(asset_register.EXPORT_COLUMNS), "assets", format)
    return page_json([asset_out(request, a) for a in found[offset:offset + limit]], len(found), limit, offset,
                     counts=asset_register.status_counts(found, days=days), warning_days=days)


@router.post("/api/v1/assets", status_code=201, response_model=None)
def create_asset_api(request: Request, body: AssetIn, user: Editor, db: DB) -> Any:
    try:
        a = asset_register.create_asset(db, **body.model_dump(), actor=user.email,
                                        types=library_config(request).asset_types, ip=client_ip(request))
    except ValidationFailed as e:
        db.rollback()
        return _invalid(e.message, "invalid_asset")
    db.commit()
    return asset_out(request, a)


@router.get("/api/v1/assets/{asset_id}")
def asset_api(request: Request, asset_id: int, user: Reader, db: DB) -> dict:
    return asset_out(request, asset_register.get_asset(db, asset_id))


@router.patch("/api/v1/assets/{asset_id}", response_model=None)
def update_asset_api(request: Request, asset_id: int, body: AssetChange, user: Editor, db: DB) -> Any:
    changes = body.model_dump(exclude_unset=True)
    for key in ("name", "type"):
        if key in changes and changes[key] is None:
            return _invalid(f"{key} cannot be null", "invalid_asset")
    try:
        a = asset_register.update_asset(db, asset_id, changes, actor=user.email,
                                        types=library_config(request).asset_types, ip=client_ip(request))
    except ValidationFailed as e:
        db.rollback()
        return _invalid(e.message, "invalid_asset")
    db.commit()
    return asset_out(request, a)


@router.delete("/api/v1/assets/{asset_id}", status_code=204)
def delete_asset_api(request: Request, asset_id: int, user: Editor, db: DB) -> Response:
    asset_register.delete_asset(db, asset_id, actor=user.email, ip=client_ip(request))
    db.commit()
    return Response(status_code=204)


router.include_router(library_pages.router)

__all__ = ["router"]
