"""Where a request finds the workspace's library (playbooks folder, templates folder, search
index, rules), and the two changes the pages and the API share: saving a playbook and using a
template. Shared by :mod:`marketops.app.routes.library` (API) and ``library_pages`` (pages)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request

from marketops.app.deps import client_ip
from marketops.app.render import workspace_config
from marketops.library import playbooks as pb
from marketops.library import templates as tpl
from marketops.library.search import workspace_index
from marketops.state import audit
from marketops.workspace import STATE_DIR


def library_config(request: Request):
    return workspace_config(request).library


def root_of(request: Request) -> Path:
    return Path(request.app.state.workspace_root)


def playbooks_dir(request: Request) -> Path:
    return pb.playbooks_folder(root_of(request), library_config(request))


def templates_dir(request: Request) -> Path:
    return root_of(request) / library_config(request).templates_dir


def search_index(request: Request):
    root = root_of(request)
    return workspace_index(root, library_config(request), root / STATE_DIR)


def save_playbook_as(request: Request, db, user, *, create: bool, slug: str | None, title: str, body: str,
                     owner: str, tags: Any) -> pb.Playbook:
    """Write a playbook file and audit it (``playbook.create`` / ``playbook.update``): the page's
    form and the API both come here."""
    p = pb.save_playbook(playbooks_dir(request), title=title, body=body, owner=owner, tags=tags, slug=slug,
                         create=create, root=root_of(request))
    audit.record(db, user.email, "playbook.create" if create else "playbook.update", f"playbook:{p.slug}",
                 {"title": p.title, "file": p.file}, client_ip(request))
    db.commit()
    return p


def use_template_as(request: Request, db, user, name: str, *, start: Any, owner: str,
                    values: dict[str, str]) -> tpl.TemplateResult:
    """Create the initiative and tasks (the page's form and the API both come here); rolls back on error."""
    t = tpl.get_template(templates_dir(request), name, root_of(request))
    try:
        result = tpl.use_template(db, t, start=start, owner=owner, values=values, actor=user.email,
                                  ip=client_ip(request))
        db.commit()
    except Exception:
        db.rollback()
        raise
    return result
