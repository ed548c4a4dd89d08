"""Budgets: ``GET /budgets`` (plan vs actual per line of a month, pacing and its alerts, a chart,
the reallocation hint, forms for editors) and its API:

- ``GET /api/v1/budgets?month=YYYY-MM`` plan, actual and variance per line (``format=csv|xlsx``);
- ``GET /api/v1/budgets/lines`` the lines themselves (every month, or ``?month=``);
- ``PUT`` or ``POST /api/v1/budgets`` set one line (JSON; setting it again updates it);
- ``DELETE /api/v1/budgets/{id}``;
- ``POST /api/v1/budgets/import`` a CSV plan (multipart field ``file``);
- ``GET /api/v1/budgets/pacing`` the pacing of a month per line and the alerts;
- ``GET /api/v1/budgets/reallocation`` the reallocation hint (a suggestion, never applied).

Every change is audited (target ``budget:<id>``). Rule violations answer 422 with the rule's
message; forms show it on the page.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from marketops.app.budgets_charts import plan_vs_actual
from marketops.app.deps import DB, CurrentUser, Editor, Reader, client_ip, form_csrf, read_workspace
from marketops.app.downloads import Format, Limit, Offset, page_json
from marketops.app.errors import api_error
from marketops.app.render import N_, render
from marketops.app.routes.metrics import cached_analysis, file_of, gettext
from marketops.app.routes.settings import flash, pop_flash
from marketops.errors import MarketopsError, NotFound, SourceError, WorkspaceLocked
from marketops.plan import budget_lines as bl
from marketops.plan.budget_import import ImportResult, import_text
from marketops.plan.budgets import BudgetReport, budget_report, pacing_json
from marketops.plan.reallocation import DEFAULT_CAP, Reallocation, channel_plans, channel_returns, reallocate

router = APIRouter()

#: A budget plan is a small file; anything bigger is the wrong file.
MAX_IMPORT_BYTES = 2 * 1024 * 1024
REPORT_COLUMNS = ["scope", "channel", "platform", "campaign", "planned", "actual", "variance", "variance_pct",
                  "expected_to_date", "actual_to_date", "projected", "pacing", "note"]
PACING_COLUMNS = ["scope", "planned", "as_of", "expected_to_date", "actual_to_date", "projected", "status", "curve",
                  "share_elapsed"]
REALLOCATION_COLUMNS = ["channel", "planned", "spend", "revenue", "conversions", "roas", "judged", "note"]
LINE_COLUMNS = ["id", "month", "scope", "channel", "platform", "campaign", "amount", "currency", "note", "created_by",
                "updated_at"]

MonthQ = Annotated[str | None, Query(description="The month, YYYY-MM (default: this month).")]
TodayQ = Annotated[date | None, Query(description="Pretend today is this day, YYYY-MM-DD (what-if; default: today).")]
ToleranceQ = Annotated[float, Query(ge=0, le=10, description="Pacing alerts beyond this share ahead of or behind "
                                                              "the curve (0.1 = 10%).")]
ModelQ = Annotated[str | None, Query(description="Attribution model (default: the workspace's).")]
CapQ = Annotated[float, Query(gt=0, le=1, description="Most of a giving channel's plan to move (0.2 = 20%).")]


class BudgetIn(BaseModel):
    """One budget line to set: a month, a channel or a platform (optionally a campaign), an amount."""

    month: str = Field(description="YYYY-MM", examples=["2026-12"])
    amount: str | int | float = Field(description="Amount; a string keeps it exact: '12000', '12 000', "
                                                   "'12.000,50', '€12,000'.", examples=["12000"])
    channel: str | None = Field(default=None, description="Channel group, e.g. 'Paid Search'.")
    platform: str | None = Field(default=None, description="Ad platform, e.g. google_ads.")
    campaign: str | None = Field(default=None, description="One campaign of the channel or platform.")
    currency: str | None = Field(default=None, description="Currency of the amount (default: the reporting currency).")
    note: str | None = Field(default=None, max_length=2000)


# -- what the page and the API compute ----------------------------------------------------------------

def _report(request: Request, db: Session, month: str | None, today: date | None,
            tolerance: float = 0.10) -> BudgetReport:
    with read_workspace(request) as ws:
        return budget_report(ws, db, month, today=today, tolerance=tolerance)


def _returns(ws, *, model: str | None) -> tuple[str, dict]:
    return channel_returns(ws, model)


def _reallocation(request: Request, db: Session, month: date, model: str | None, cap: float) -> Reallocation:
    """The hint; attribution is cached until the next run (it reads every touchpoint)."""
    currency = _currency(request)
    plans = channel_plans(bl.list_lines(db, month))
    try:
        used, returns = cached_analysis(request.app, "budget_returns", _returns, model=model)
    except WorkspaceLocked:
        raise
    except NotFound as e:  # an unknown model, or no touchpoints yet
        if model and "model" in str(e):
            raise
        return Reallocation(month, model or "", currency, cap, [], [],
                            f"No hint: there are no attribution results yet ({e.message}).")
    return reallocate(month, plans, returns, model=used, currency=currency, cap=cap)


def _currency(request: Request) -> str:
    from marketops.app.render import workspace_config

    return workspace_config(request).reporting_currency.upper()


def _context(request: Request) -> bl.BudgetContext:
    with read_workspace(request) as ws:
        return bl.budget_context(ws)


def _month(month: str | None) -> date:
    return bl.parse_month(month) if month else date.today().replace(day=1)


def _refused(e: MarketopsError, status: int = 422) -> JSONResponse:
    return api_error(status, str(e), code="invalid_budget" if status == 422 else None)


# -- the page --------------------------------------------------------------------------------------------

def _page(request: Request, db: Session, month: str | None, *, model: str | None = None, status: int = 200,
          **extra: Any) -> Response:
    try:
        first = _month(month)
    except bl.BudgetRefused as e:
        return render(request, "error.html", {"status": 400, "message": e.message}, status_code=400)
    report = _report(request, db, first.isoformat()[:7], None)
    try:
        hint = _reallocation(request, db, first, model, DEFAULT_CAP)
    except NotFound as e:
        hint = Reallocation(first, model or "", report.currency, DEFAULT_CAP, [], [], e.message)
    ctx = _context(request)
    _ = gettext(request)
    figure = plan_vs_actual(report.rows, plan_label=_("Plan"), actual_label=_("Actual"),
                            y_title=report.currency) if report.rows else None
    query = urlencode({"month": f"{first:%Y-%m}"})
    return render(request, "budgets.html", {
        "r": report, "hint": hint, "month": f"{first:%Y-%m}", "figure": figure, "charts": figure is not None,
        "channels": ctx.data_channels or ctx.channels, "platforms": ctx.platforms, "flash": pop_flash(request),
        "api": f"/api/v1/budgets?{query}", "pacing_api": f"/api/v1/budgets/pacing?{query}",
        "hint_api": f"/api/v1/budgets/reallocation?{query}", "previous": _shift(first, -1), "next": _shift(first, 1),
        "form": extra.pop("form", {}), **extra}, status_code=status)


def _shift(month: date, n: int) -> str:
    from marketops.metrics.query import shift_period

    return f"{shift_period(month, 'month', n):%Y-%m}"


@router.get("/budgets")
def budgets_page(request: Request, user: CurrentUser, db: DB, month: MonthQ = None, model: ModelQ = None) -> Response:
    return _page(request, db, month, model=model or None)


@router.post("/budgets/set", dependencies=[Depends(form_csrf)])
async def set_form(request: Request, user: Editor, db: DB) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items() if isinstance(v, str)}
    scope = form.get("scope", "")
    kind, _, name = scope.partition(":")
    try:
        ctx = _context(request)
        result = bl.set_line(db, ctx, form.get("month", ""), form.get("amount", ""),
                             channel=name if kind == "channel" else None,
                             platform=name if kind == "platform" else None, campaign=form.get("campaign"),
                             currency=form.get("currency"), note=form.get("note"), actor=user.email,
                             ip=client_ip(request))
        db.commit()
    except bl.BudgetRefused as e:
        db.rollback()
        return _page(request, db, form.get("month") if bl.MONTH_RE.match(form.get("month", "")) else None,
                     status=400, error=str(e), form=form)
    flash(request, "%(message)s", message=result.message)
    return RedirectResponse(f"/budgets?month={result.line.month:%Y-%m}#budget-table", status_code=303)


@router.post("/budgets/import", dependencies=[Depends(form_csrf)])
async def import_form(request: Request, user: Editor, db: DB) -> Response:
    form = await request.form()
    upload = form.get("file")
    month = str(form.get("month") or "") or None
    if not hasattr(upload, "read") or not getattr(upload, "filename", ""):
        return _page(request, db, month, status=400, error=N_("Choose a CSV file to import."))
    try:
        result = _import(request, db, user, await upload.read(MAX_IMPORT_BYTES + 1), upload.filename)
    except SourceError as e:
        db.rollback()
        return _page(request, db, month, status=400, error=str(e))
    return _page(request, db, month, imported=result)


@router.post("/budgets/{line_id}/remove", dependencies=[Depends(form_csrf)])
def remove_form(request: Request, user: Editor, db: DB, line_id: int) -> Response:
    line = bl.remove_line(db, line_id, actor=user.email, ip=client_ip(request))
    db.commit()
    flash(request, N_("Removed the %(month)s budget of %(scope)s."), month=f"{line.month:%Y-%m}",
          scope=bl.scope_of(line).label)
    return RedirectResponse(f"/budgets?month={line.month:%Y-%m}", status_code=303)


def _import(request: Request, db: Session, user, body: bytes, filename: str) -> ImportResult:
    name = (filename or "budget.csv").replace("\\", "/").rsplit("/", 1)[-1][:200]
    if len(body) > MAX_IMPORT_BYTES:
        raise SourceError(f"the file is larger than {MAX_IMPORT_BYTES // (1024 * 1024)} MB: a budget plan is one "
                          "row per month and scope", file=name)
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SourceError("the file is not UTF-8 text: save it as CSV (UTF-8)", file=name) from None
    result = import_text(db, _context(request), text, file=name, actor=user.email, ip=client_ip(request))
    db.commit()
    return result


# -- the API ---------------------------------------------------------------------------------------------

@router.get("/api/v1/budgets", response_model=None)
def budgets_api(request: Request, user: Reader, db: DB, month: MonthQ = None, today: TodayQ = None,
                tolerance: ToleranceQ = 0.10, format: Format = "json") -> Any:
    """Plan, actual spend and variance per budget line of a month, with pacing: ``{"month", "currency",
    "items": [{"id", "scope", "channel", "platform", "campaign", "planned", "actual", "variance",
    "variance_pct", "pacing"}], "totals", "unplanned", "alerts"}``; money as exact decimal strings."""
    try:
        report = _report(request, db, month, today, tolerance)
    except bl.BudgetRefused as e:
        return _refused(e)
    if format != "json":
        return file_of([r.flat() for r in report.rows], REPORT_COLUMNS, f"budget_{report.month:%Y-%m}", format)
    return report.to_json()


@router.get("/api/v1/budgets/lines", response_model=None)
def lines_api(request: Request, user: Reader, db: DB, month: Annotated[str | None, Query(
        description="Only this month, YYYY-MM.")] = None, limit: Limit = 100, offset: Offset = 0,
              format: Format = "json") -> Any:
    """The budget lines, by month then scope (every month unless ``month``)."""
    try:
        lines = bl.list_lines(db, month)
    except bl.BudgetRefused as e:
        return _refused(e)
    rows = [bl.line_json(line) for line in lines]
    if format != "json":
        return file_of(rows, LINE_COLUMNS, "budget_lines" + (f"_{month}" if month else ""), format)
    return page_json(rows[offset:offset + limit], len(rows), limit, offset)


def _set(request: Request, user, db: Session, body: BudgetIn) -> JSONResponse:
    try:
        result = bl.set_line(db, _context(request), body.month, body.amount, channel=body.channel,
                             platform=body.platform, campaign=body.campaign, currency=body.currency, note=body.note,
                             actor=user.email, ip=client_ip(request))
        db.commit()
    except bl.BudgetRefused as e:
        db.rollback()
        return _refused(e)
    return JSONResponse({"status": result.status, "message": result.message, "conversion": result.conversion,
                         "line": bl.line_json(result.line)}, status_code=201 if result.status == "created" else 200)


@router.put("/api/v1/budgets")
def put_api(request: Request, user: Editor, db: DB, body: BudgetIn) -> JSONResponse:
    """Set the budget of a month and scope (created: 201; updated or unchanged: 200)."""
    return _set(request, user, db, body)


@router.post("/api/v1/budgets")
def post_api(request: Request, user: Editor, db: DB, body: BudgetIn) -> JSONResponse:
    """The same as PUT: set the budget of a month and scope."""
    return _set(request, user, db, body)


@router.delete("/api/v1/budgets/{line_id}")
def delete_api(request: Request, user: Editor, db: DB, line_id: int) -> dict[str, Any]:
    """Remove a budget line; answers what it held."""
    line = bl.remove_line(db, line_id, actor=user.email, ip=client_ip(request))
    out = bl.line_json(line)
    db.commit()
    return {"deleted": line_id, "line": out}


@router.post("/api/v1/budgets/import")
async def import_api(request: Request, user: Editor, db: DB, file: UploadFile) -> Any:
    """Import a CSV plan (multipart field ``file``; columns month, channel, platform, campaign, amount,
    currency): ``{"created", "updated", "unchanged", "refused", "errors": [{"file", "row", "column",
    "message"}], "conversions"}``. Good rows load even when others are refused."""
    try:
        result = _import(request, db, user, await file.read(MAX_IMPORT_BYTES + 1), file.filename or "budget.csv")
    except SourceError as e:
        db.rollback()
        return api_error(400, str(e))
    return result.to_json()


@router.get("/api/v1/budgets/pacing", response_model=None)
def pacing_api(request: Request, user: Reader, db: DB, month: MonthQ = None, today: TodayQ = None,
               tolerance: ToleranceQ = 0.10, format: Format = "json") -> Any:
    """Pacing per budget line of a month (default: the current one): spend to date against the
    expected curve, projected month-end spend, status; and the over/under-pacing alerts."""
    try:
        report = _report(request, db, month, today, tolerance)
    except bl.BudgetRefused as e:
        return _refused(e)
    items = [{"id": r.id, "scope": r.scope, "planned": str(r.planned), **(pacing_json(r.pacing) if r.pacing else
                                                                         {"status": "not_started"})}
             for r in report.rows]
    if format != "json":
        rows = [{c: i.get(c) for c in PACING_COLUMNS} for i in items]
        return file_of(rows, PACING_COLUMNS, f"budget_pacing_{report.month:%Y-%m}", format)
    return {"month": f"{report.month:%Y-%m}", "currency": report.currency, "tolerance": tolerance,
            "items": items, "total": len(items), "alerts": report.to_json()["alerts"], "problem": report.problem}


@router.get("/api/v1/budgets/reallocation", response_model=None)
def reallocation_api(request: Request, user: Reader, db: DB, month: MonthQ = None, model: ModelQ = None,
                     cap: CapQ = DEFAULT_CAP, format: Format = "json") -> Any:
    """A suggestion (never applied) to move budget from channels with clearly worse attributed ROAS
    towards the best: ``{"suggestion", "reasoning", "moves": [{"from", "to", "amount", "from_roas",
    "to_roas", "expected_gain", "reason"}], "channels", "model", "applied": false}``."""
    try:
        hint = _reallocation(request, db, _month(month), model or None, cap)
    except bl.BudgetRefused as e:
        return _refused(e)
    except NotFound as e:
        return api_error(400, str(e))
    if format != "json":
        rows = [{c: v for c, v in ch.to_json().items()} for ch in hint.channels]
        return file_of(rows, REALLOCATION_COLUMNS, f"budget_reallocation_{hint.month:%Y-%m}", format)
    return hint.to_json()

