"""Library pages: ``/playbooks`` (search with snippets, list by tag), ``/playbooks/{slug}`` (the
rendered markdown), ``/playbooks/new`` and ``/playbooks/{slug}/edit`` (editors); ``/templates`` and
``/templates/{name}`` (preview, "Create initiative" form for editors); ``/assets`` (the register
with expiry highlighted, filters, add form) and ``/assets/{id}`` (edit, remove). Forms are
CSRF-checked and answered with a redirect and a one-off notice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from marketops.app.deps import DB, CurrentUser, Forbidden, client_ip, form_csrf
from marketops.app.library_context import (
    library_config,
    playbooks_dir,
    root_of,
    save_playbook_as,
    search_index,
    templates_dir,
    use_template_as,
)
from marketops.app.render import N_, render
from marketops.app.routes.settings import flash, pop_flash
from marketops.errors import ConfigError, NotFound, ValidationFailed
from marketops.library import assets as asset_register
from marketops.library import playbooks as pb
from marketops.library import templates as tpl
from marketops.library.markdown import render_markdown
from marketops.state.models import User

router = APIRouter()
CSRF = [Depends(form_csrf)]
STATUS_TEXT = {"expired": N_("Expired"), "expiring": N_("Expiring"), "ok": N_("OK")}


def can_edit(user: User) -> bool:
    return user.role in ("admin", "editor")


def _editor(user: User) -> None:
    if not can_edit(user):
        raise Forbidden(f"this needs the editor role; you are {user.role}")


def _q(request: Request, key: str, limit: int = 200) -> str:
    return str(request.query_params.get(key) or "").strip()[:limit]


# -- playbooks ----------------------------------------------------------------------------------------------
@router.get("/playbooks")
def playbooks_page(request: Request, user: CurrentUser) -> Response:
    q, tag = _q(request, "q", 400), _q(request, "tag", 60).lower()
    everything = pb.load_playbooks(playbooks_dir(request), root_of(request))
    hits = search_index(request).search(q, limit=50, tag=tag or None) if q else None
    query = {k: v for k, v in (("q", q), ("tag", tag)) if v}
    return render(request, "playbooks.html", {
        "q": q, "tag": tag, "hits": hits, "playbooks": pb.filter_playbooks(everything, tag=tag or None),
        "tags": pb.tag_counts(everything), "total": len(everything), "query": query,
        "problems": [p.problem for p in everything if p.problem], "editable": can_edit(user),
        "folder": library_config(request).playbooks_dir, "flash": pop_flash(request)})


def _form_page(request: Request, *, form: dict[str, Any], slug: str | None, error: str | None = None,
               status_code: int = 200) -> Response:
    return render(request, "playbook_form.html", {"form": form, "slug": slug, "error": error,
                                                  "folder": library_config(request).playbooks_dir},
                  status_code=status_code)


@router.get("/playbooks/new")
def new_playbook_page(request: Request, user: CurrentUser) -> Response:
    _editor(user)
    return _form_page(request, form={"title": "", "body": "", "owner": user.email, "tags": "", "slug": ""}, slug=None)


async def _playbook_form(request: Request, db: Session, user: User, *, slug: str | None, notice: str) -> Response:
    """Save the new/edit playbook form (``slug`` None: create); on a bad form, show it again with the error."""
    _editor(user)
    form = {k: str(v) for k, v in (await request.form()).items() if isinstance(v, str)}
    create = slug is None
    try:
        p = save_playbook_as(request, db, user, create=create, slug=(form.get("slug") or None) if create else slug,
                             title=form.get("title", ""), body=form.get("body", ""), owner=form.get("owner", ""),
                             tags=form.get("tags", ""))
    except ValidationFailed as e:
        db.rollback()
        return _form_page(request, form=form, slug=slug, error=e.message, status_code=400)
    flash(request, notice, title=p.title)
    return RedirectResponse(f"/playbooks/{p.slug}", status_code=303)


@router.post("/playbooks/new", dependencies=CSRF)
async def new_playbook_form(request: Request, db: DB, user: CurrentUser) -> Response:
    return await _playbook_form(request, db, user, slug=None, notice=N_("Playbook “%(title)s” created."))


@router.get("/playbooks/{slug}")
def playbook_page(request: Request, slug: str, user: CurrentUser) -> Response:
    p = pb.get_playbook(playbooks_dir(request), slug, root_of(request))
    return render(request, "playbook.html", {"p": p, "html": render_markdown(p.body), "editable": can_edit(user),
                                             "flash": pop_flash(request)})


@router.get("/playbooks/{slug}/edit")
def edit_playbook_page(request: Request, slug: str, user: CurrentUser) -> Response:
    _editor(user)
    p = pb.get_playbook(playbooks_dir(request), slug, root_of(request))
    return _form_page(request, form={"title": p.title, "body": p.body, "owner": p.owner, "tags": ", ".join(p.tags)},
                      slug=p.slug)


@router.post("/playbooks/{slug}/edit", dependencies=CSRF)
async def edit_playbook_form(request: Request, slug: str, db: DB, user: CurrentUser) -> Response:
    return await _playbook_form(request, db, user, slug=slug, notice=N_("Playbook “%(title)s” saved."))


# -- templates --------------------------------------------------------------------------------------------
@router.get("/templates")
def templates_page(request: Request, db: DB, user: CurrentUser) -> Response:
    found = tpl.load_templates(templates_dir(request), root_of(request))
    return render(request, "library_templates.html", {
        "templates": sorted(found.templates.values(), key=lambda t: t.title.lower()), "problems": found.problems,
        "used": tpl.usage_counts(db), "runs": tpl.template_runs(db, limit=20), "editable": can_edit(user),
        "folder": library_config(request).templates_dir, "flash": pop_flash(request)})


def template_page(request: Request, name: str, db: Session, user: User, *, form: dict[str, Any] | None = None,
                  error: str | None = None, status_code: int = 200) -> Response:
    t = tpl.get_template(templates_dir(request), name, root_of(request))
    form = form or {"start": dt.date.today().isoformat(), "owner": user.email}
    try:
        start = dt.date.fromisoformat(str(form.get("start") or "")[:10])
    except ValueError:
        start = dt.date.today()
    values = tpl.preview_values(t, {k: str(form.get(f"v_{k}") or "") for k in t.placeholders})
    plan = tpl.plan_from_template(t, start=start, owner=str(form.get("owner") or user.email), values=values)
    return render(request, "library_template.html", {
        "t": t, "plan": plan, "form": form, "error": error, "editable": can_edit(user),
        "runs": tpl.template_runs(db, t.name, limit=20)}, status_code=status_code)


@router.get("/templates/{name}")
def template_page_route(request: Request, name: str, db: DB, user: CurrentUser) -> Response:
    return template_page(request, name, db, user)


@router.post("/templates/{name}/use", dependencies=CSRF)
async def use_template_form(request: Request, name: str, db: DB, user: CurrentUser) -> Response:
    _editor(user)
    form = {k: str(v) for k, v in (await request.form()).items() if isinstance(v, str)}
    values = {k[2:]: v for k, v in form.items() if k.startswith("v_") and v.strip()}
    try:
        result = use_template_as(request, db, user, name, start=form.get("start"), owner=form.get("owner", ""),
                                 values=values)
    except (ValidationFailed, ConfigError) as e:
        return template_page(request, name, db, user, form=form, error=e.message, status_code=400)
    flash(request, N_("Initiative “%(title)s” created with %(tasks)s tasks."), title=result.initiative.title,
          tasks=len(result.tasks))
    return RedirectResponse(f"/initiatives/{result.initiative.id}", status_code=303)


# -- assets ---------------------------------------------------------------------------------------------------
ASSET_FIELDS = ("name", "type", "location", "tags", "owner", "usage_rights", "expires_on", "notes")


def assets_context(request: Request, db: Session, user: User, **extra: Any) -> dict[str, Any]:
    cfg = library_config(request)
    days = cfg.asset_expiry_warning_days
    filters = {k: _q(request, k) for k in ("type", "tag", "owner", "status", "q")}
    try:
        found = asset_register.list_assets(db, days=days, **{k: v or None for k, v in filters.items()})
    except ValidationFailed:
        filters["status"] = ""
        found = asset_register.list_assets(db, days=days, **{k: v or None for k, v in filters.items()})
    warned = asset_register.expiring_assets(db, days=days)
    return {"rows": [asset_register.asset_json(a, days=days) for a in found], "filters": filters,
            "query": {k: v for k, v in filters.items() if v}, "facets": asset_register.facets(db),
            "types": cfg.asset_types, "days": days, "statuses": STATUS_TEXT, "editable": can_edit(user),
            "counts": asset_register.status_counts(warned, days=days), "flash": pop_flash(request),
            "new": {}, **extra}


@router.get("/assets")
def assets_page(request: Request, db: DB, user: CurrentUser) -> Response:
    return render(request, "assets.html", assets_context(request, db, user))


def _asset_form(form: Any) -> dict[str, Any]:
    out = {k: str(form.get(k) or "") for k in ASSET_FIELDS if k in form}
    if "expires_on" in out:
        out["expires_on"] = out["expires_on"] or None
    return out


@router.post("/assets/new", dependencies=CSRF)
async def new_asset_form(request: Request, db: DB, user: CurrentUser) -> Response:
    _editor(user)
    form = await request.form()
    fields = _asset_form(form)
    try:
        a = asset_register.create_asset(db, **{"name": "", "type": "", **fields}, actor=user.email,
                                        types=library_config(request).asset_types, ip=client_ip(request))
        db.commit()
    except ValidationFailed as e:
        db.rollback()
        return render(request, "assets.html", assets_context(request, db, user, error=e.message, new=dict(form),
                                                             open_new=True), status_code=400)
    flash(request, N_("Asset “%(name)s” added."), name=a.name)
    return RedirectResponse(f"/assets/{a.id}", status_code=303)


def asset_page(request: Request, asset_id: int, db: Session, user: User, *, error: str | None = None,
               status_code: int = 200) -> Response:
    cfg = library_config(request)
    a = asset_register.get_asset(db, asset_id)
    return render(request, "asset.html", {
        "a": a, "row": asset_register.asset_json(a, days=cfg.asset_expiry_warning_days),
        "warning": asset_register.warning_text(a), "types": cfg.asset_types, "statuses": STATUS_TEXT,
        "editable": can_edit(user), "error": error, "flash": pop_flash(request)}, status_code=status_code)


@router.get("/assets/{asset_id}")
def asset_page_route(request: Request, asset_id: int, db: DB, user: CurrentUser) -> Response:
    return asset_page(request, asset_id, db, user)


@router.post("/assets/{asset_id}/edit", dependencies=CSRF)
async def edit_asset_form(request: Request, asset_id: int, db: DB, user: CurrentUser) -> Response:
    _editor(user)
    fields = _asset_form(await request.form())
    try:
        a = asset_register.update_asset(db, asset_id, fields, actor=user.email,
                                        types=library_config(request).asset_types, ip=client_ip(request))
        db.commit()
    except NotFound:
        db.rollback()
        raise
    except ValidationFailed as e:
        db.rollback()
        return asset_page(request, asset_id, db, user, error=e.message, status_code=400)
    flash(request, N_("Asset “%(name)s” saved."), name=a.name)
    return RedirectResponse(f"/assets/{asset_id}", status_code=303)


@router.post("/assets/{asset_id}/delete", dependencies=CSRF)
def delete_asset_form(request: Request, asset_id: int, db: DB, user: CurrentUser) -> Response:
    _editor(user)
    name = asset_register.get_asset(db, asset_id).name
    asset_register.delete_asset(db, asset_id, actor=user.email, ip=client_ip(request))
    db.commit()
    flash(request, N_("Asset “%(name)s” removed."), name=name)
    return RedirectResponse("/assets", status_code=303)
