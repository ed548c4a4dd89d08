"""The review queue pages: ``/review`` (uncertain identity matches, filtered and paged) and
``/review/{pair_id}`` (both records side by side, the evidence per field, Accept / Reject).

Deciding goes through :mod:`marketops.quality.review` exactly as ``/api/v1/review`` does: editors
and admins only (checked on the server), CSRF-protected forms, one audit event per decision. A
decision takes effect at the next pipeline run; the queue says so after every decision.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from marketops.app.deps import DB, Editor, Reader, client_ip, form_csrf, read_workspace
from marketops.app.downloads import Limit, Offset
from marketops.app.render import N_, render
from marketops.quality import review as rv
from marketops.state.models import ROLES, User

router = APIRouter()

#: Session key of the one-off message shown on the queue after a decision.
FLASH = "review_flash"
#: The fields compared side by side (record_key first: where each record comes from).
FIELDS = ("record_key", *rv.DISPLAY_COLUMNS)
LABELS = {"record_key": N_("Source record"), "first_name": N_("First name"), "last_name": N_("Last name"),
          "email": N_("Email"), "phone": N_("Phone"), "company": N_("Company"), "city": N_("City")}

# The length is checked by review.accept / reject, so an over-long note comes back in the form.
Note = Annotated[str | None, Form()]


def can_decide(user: User) -> bool:
    """Editors and admins decide; viewers see the queue read-only."""
    return user.role in ROLES[: ROLES.index("editor") + 1]


def parse_probability(text: str | None) -> tuple[float | None, str | None]:
    """A probability typed in a filter box: ``0.8``, ``80%`` or ``80`` -> 0.8; (None, problem) otherwise.

    >>> parse_probability("80%"), parse_probability(" 0.25 "), parse_probability("")
    ((0.8, None), (0.25, None), (None, None))
    >>> parse_probability("1; DROP TABLE x")[1]
    "'1; DROP TABLE x' is not a probability: give a number from 0 to 1 (or a percentage)"
    """
    raw = (text or "").strip()
    if not raw:
        return None, None
    try:
        value = float(raw.rstrip("%").strip())
    except ValueError:
        value = -1.0
    if raw.endswith("%") or 1 < value <= 100:
        value /= 100
    if not 0 <= value <= 1:
        return None, f"'{raw[:40]}' is not a probability: give a number from 0 to 1 (or a percentage)"
    return value, None


def _label(record: dict[str, Any]) -> str:
    name = " ".join(str(record.get(k)) for k in ("first_name", "last_name") if record.get(k))
    return name or str(record.get("email") or record.get("record_key") or "")


def evidence_summary(item: rv.ReviewItem) -> dict[str, list[str]]:
    """The columns that vote for and against the match, strongest first."""
    ranked = sorted(item.evidence, key=lambda e: -abs(e.match_weight or 0))
    return {"agree": [e.column for e in ranked if e.verdict == "agree"],
            "disagree": [e.column for e in ranked if e.verdict == "disagree"]}


def compare_rows(item: rv.ReviewItem) -> list[dict[str, Any]]:
    """Field by field: both values and whether they differ (blank on one side is not a difference)."""
    rows = []
    for field in FIELDS:
        left, right = item.left.get(field), item.right.get(field)
        if field not in item.left and field not in item.right:
            continue
        differs = (field != "record_key" and left not in (None, "") and right not in (None, "")
                   and str(left).strip().lower() != str(right).strip().lower())
        rows.append({"field": field, "label": LABELS.get(field, field), "left": left, "right": right,
                     "differs": differs, "missing": (left in (None, "")) != (right in (None, ""))})
    return rows


@router.get("/review")
def review_queue_page(request: Request, db: DB, user: Reader, limit: Limit = 25, offset: Offset = 0,
                      min_probability: str | None = None, max_probability: str | None = None) -> Response:
    low, low_problem = parse_probability(min_probability)
    high, high_problem = parse_probability(max_probability)
    with read_workspace(request) as ws:
        page = rv.review_page(ws, limit=limit, offset=offset, min_probability=low, max_probability=high,
                              session=db)
    items = [{"item": i, "left": _label(i.left), "right": _label(i.right), "evidence": evidence_summary(i)}
             for i in page.items]
    params = {k: v for k, v in (("min_probability", min_probability), ("max_probability", max_probability))
              if v and v.strip()}
    # the download takes the parsed filters (the API wants 0.8, the box also takes "80%")
    parsed = {k: v for k, v in (("min_probability", low), ("max_probability", high)) if v is not None}
    return render(request, "review.html", {
        "page": page, "items": items, "params": params, "filtered": bool(params),
        "filters": {"min_probability": min_probability or "", "max_probability": max_probability or ""},
        "problems": [p for p in (low_problem, high_problem) if p], "can_decide": can_decide(user),
        "flash": request.session.pop(FLASH, None),
        "download_url": "/api/v1/review" + ("?" + urlencode(parsed) if parsed else "")})


def _item_page(request: Request, db, user: User, pair_id: str, *, error: str | None = None,
               note: str | None = None, status_code: int = 200) -> Response:
    with read_workspace(request) as ws:
        item = rv.get_item(ws, pair_id, session=db)
    evidence = sorted(item.evidence, key=lambda e: -abs(e.match_weight or 0))
    return render(request, "review_item.html", {
        "item": item, "rows": compare_rows(item), "evidence": evidence, "can_decide": can_decide(user),
        "error": error, "note": note or "", "max_note": rv.MAX_NOTE}, status_code=status_code)


@router.get("/review/{pair_id}")
def review_item_page(request: Request, db: DB, user: Reader, pair_id: str) -> Response:
    return _item_page(request, db, user, pair_id)


def _decide(request: Request, db, user: User, pair_id: str, action: str, note: str | None) -> Response:
    decide = rv.accept if action == "accept" else rv.reject
    try:
        with read_workspace(request) as ws:
            outcome = decide(ws, pair_id, user.email, note, client_ip(request), session=db)
    except rv.DecisionConflict as e:
        db.rollback()
        message = f"{e.message} ({e.hint})" if getattr(e, "hint", None) else e.message
        return _item_page(request, db, user, pair_id, error=message, note=note, status_code=409)
    except rv.InvalidDecision as e:
        db.rollback()
        return _item_page(request, db, user, pair_id, error=e.message, note=note, status_code=400)
    db.commit()
    request.session[FLASH] = outcome.message
    return RedirectResponse("/review", status_code=303)


@router.post("/review/{pair_id}/accept", dependencies=[Depends(form_csrf)])
def accept_form(request: Request, db: DB, user: Editor, pair_id: str, note: Note = None) -> Response:
    """Always merge the pair's two records, from the next run on."""
    return _decide(request, db, user, pair_id, "accept", note)


@router.post("/review/{pair_id}/reject", dependencies=[Depends(form_csrf)])
def reject_form(request: Request, db: DB, user: Editor, pair_id: str, note: Note = None) -> Response:
    """Never merge the pair's two records, from the next run on."""
    return _decide(request, db, user, pair_id, "reject", note)
