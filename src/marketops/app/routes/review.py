"""``/api/v1/review``: the queue of uncertain identity matches and the merge decisions on it.

Reading needs any signed-in user (tokens: ``read``); deciding needs the editor or admin role
(tokens: ``write``) and, for browser sessions, the ``X-CSRF-Token`` header. Decisions take
effect at the next pipeline run; every response that changes something says so in ``message``
and ``effective: "next_run"``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from marketops.app.deps import DB, Editor, Reader, client_ip, read_workspace
from marketops.app.downloads import Format, Limit, Offset, page_json
from marketops.app.errors import api_error
from marketops.app.routes.metrics import file_of
from marketops.app.routes.review_pages import compare_rows, evidence_summary
from marketops.quality import review as rv

router = APIRouter(prefix="/api/v1/review", tags=["review"])

Note = Annotated[str | None, Field(default=None, max_length=rv.MAX_NOTE,
                                   description="Why; kept in the audit log.")]


class DecisionIn(BaseModel):
    note: Note = None


class SplitIn(BaseModel):
    record_key: str = Field(min_length=1, max_length=500, description="The source record to split off.")
    note: Note = None


class MergeIn(BaseModel):
    record_key_a: str = Field(min_length=1, max_length=500)
    record_key_b: str = Field(min_length=1, max_length=500)
    note: Note = None


def _decide(db, action) -> JSONResponse | dict:
    """Run a deciding action; commit on success, answer 409 / 400 in the error envelope otherwise."""
    try:
        outcome = action()
    except rv.DecisionConflict as e:
        db.rollback()
        return api_error(409, str(e))
    except rv.InvalidDecision as e:
        db.rollback()
        return api_error(400, str(e))
    db.commit()
    return outcome.to_json()


#: Columns of the queue as a file: the pair, both records side by side, and how the evidence voted.
QUEUE_COLUMNS = ["pair_id", "match_probability", "match_weight",
                 *(f"{c}_{side}" for side in ("a", "b") for c in ("record_key", *rv.DISPLAY_COLUMNS)),
                 "evidence_for", "evidence_against", "run_id"]


def queue_row(item: rv.ReviewItem) -> dict:
    """One queue pair as a flat row (record A's fields end in ``_a``, record B's in ``_b``)."""
    row = {"pair_id": item.pair_id, "match_probability": item.match_probability, "match_weight": item.match_weight}
    for side, record in (("a", item.left), ("b", item.right)):
        row.update({f"{c}_{side}": record.get(c) for c in ("record_key", *rv.DISPLAY_COLUMNS)})
    votes = evidence_summary(item)
    return {**row, "evidence_for": ", ".join(votes["agree"]), "evidence_against": ", ".join(votes["disagree"]),
            "run_id": item.run_id}


# Plain `def` routes: DuckDB and the database block, so FastAPI runs them in its thread pool.
@router.get("", response_model=None)
def review_list(request: Request, db: DB, user: Reader, limit: Limit = 50, offset: Offset = 0,
                min_probability: Annotated[float | None, Query(ge=0, le=1)] = None,
                max_probability: Annotated[float | None, Query(ge=0, le=1)] = None,
                format: Format = "json") -> dict | Response:
    """Pairs waiting for review, most probable first: ``{"items", "total", "limit", "offset", "run_id"}``.
    ``?format=csv|xlsx`` downloads every waiting pair (the filters apply, the page does not)."""
    with read_workspace(request) as ws:
        page = rv.review_page(ws, limit=None if format != "json" else limit, offset=0 if format != "json" else offset,
                              min_probability=min_probability, max_probability=max_probability, session=db)
    if format != "json":
        return file_of([queue_row(i) for i in page.items], QUEUE_COLUMNS, "review_queue", format)
    return page.to_json()


@router.get("/decisions")
def decisions_list(request: Request, db: DB, user: Reader, limit: Limit = 50, offset: Offset = 0,
                   decision: Literal["always", "never"] | None = None, record_key: str | None = None) -> dict:
    """Live merge decisions, newest first: ``{"items", "total", "limit", "offset"}``."""
    with read_workspace(request) as ws:
        items = rv.list_decisions(ws, decision=decision, record_key=record_key, limit=limit, offset=offset,
                                  session=db)
        total = rv.count_decisions(ws, decision=decision, record_key=record_key, session=db)
    return page_json([d.to_json() for d in items], total, limit, offset)


@router.delete("/decisions/{decision_id}", response_model=None)
def decision_revoke(request: Request, db: DB, user: Editor, decision_id: int) -> JSONResponse | dict:
    """Undo a decision; a pair it settled goes back to the queue at once."""
    with read_workspace(request) as ws:
        return _decide(db, lambda: rv.revoke(ws, decision_id, user.email, client_ip(request), session=db))


@router.post("/split", response_model=None)
def split(request: Request, db: DB, user: Editor, body: SplitIn) -> JSONResponse | dict:
    """Never merge ``record_key`` with the other records of its current person."""
    with read_workspace(request) as ws:
        return _decide(db, lambda: rv.split(ws, body.record_key, user.email, body.note, client_ip(request),
                                            session=db))


@router.post("/merge", response_model=None)
def merge(request: Request, db: DB, user: Editor, body: MergeIn) -> JSONResponse | dict:
    """Always merge two source records, from the next run on."""
    with read_workspace(request) as ws:
        return _decide(db, lambda: rv.merge(ws, body.record_key_a, body.record_key_b, user.email, body.note,
                                            client_ip(request), session=db))


#: The pair page's tables as files: ``?table=compare|evidence&format=csv|xlsx``.
ITEM_TABLES = {"compare": ["field", "record_a", "record_b", "differs"],
               "evidence": ["column", "record_a", "record_b", "level", "match_weight", "bayes_factor", "vote"]}
ItemTable = Annotated[Literal["compare", "evidence"] | None,
                      Query(description="With format=csv|xlsx: compare (both records) or evidence.")]


def item_rows(item: rv.ReviewItem, table: str) -> list[dict]:
    """The rows of the pair page's ``compare`` or ``evidence`` table (evidence strongest first)."""
    if table == "compare":
        return [{"field": r["field"], "record_a": r["left"], "record_b": r["right"], "differs": r["differs"]}
                for r in compare_rows(item)]
    return [{"column": e.column, "record_a": e.left, "record_b": e.right, "level": e.level,
             "match_weight": e.match_weight, "bayes_factor": e.bayes_factor,
             "vote": {"agree": "for", "disagree": "against"}.get(e.verdict, "neutral")}
            for e in sorted(item.evidence, key=lambda e: -abs(e.match_weight or 0))]


@router.get("/{pair_id}", response_model=None)
def review_item(request: Request, db: DB, user: Reader, pair_id: str, table: ItemTable = None,
                format: Format = "json") -> dict | Response:
    """One pair (any status) with both records, the evidence and its decision, if any.

    ``?table=compare|evidence&format=csv|xlsx`` downloads one of the pair page's tables."""
    if format != "json" and table is None:
        return api_error(400, "say which table to download: table=compare or evidence")
    with read_workspace(request) as ws:
        item = rv.get_item(ws, pair_id, session=db)
    if format != "json":
        return file_of(item_rows(item, table), ITEM_TABLES[table], f"review_{pair_id}_{table}", format)
    return item.to_json()


@router.post("/{pair_id}/accept", response_model=None)
def accept(request: Request, db: DB, user: Editor, pair_id: str,
           body: Annotated[DecisionIn | None, Body()] = None) -> JSONResponse | dict:
    """Always merge the pair's two records, from the next run on."""
    note = body.note if body else None
    with read_workspace(request) as ws:
        return _decide(db, lambda: rv.accept(ws, pair_id, user.email, note, client_ip(request), session=db))


@router.post("/{pair_id}/reject", response_model=None)
def reject(request: Request, db: DB, user: Editor, pair_id: str,
           body: Annotated[DecisionIn | None, Body()] = None) -> JSONResponse | dict:
    """Never merge the pair's two records, from the next run on."""
    note = body.note if body else None
    with read_workspace(request) as ws:
        return _decide(db, lambda: rv.reject(ws, pair_id, user.email, note, client_ip(request), session=db))
