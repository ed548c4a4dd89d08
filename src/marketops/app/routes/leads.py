"""Leads with their score and its explanation: ``/leads`` (people by score per group, filters, paging),
``/leads/model`` (the predictive score's report against the rules), ``/leads/{person_id}`` (why a
person has their score), and the same under ``/api/v1/leads``.

Anyone signed in reads; training the predictive model changes what the score may be, so it needs an
editor (tokens: ``write``). Every table downloads as CSV or XLSX with ``?format=`` on its API endpoint.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from marketops.app.charts import bar_chart, figure_json, line_chart
from marketops.app.deps import Editor, Reader, form_csrf, read_workspace
from marketops.app.downloads import Format, Limit, Offset, page_json
from marketops.app.errors import api_error
from marketops.app.render import N_, render
from marketops.app.routes.metrics import file_of, gettext
from marketops.app.routes.settings import flash, pop_flash
from marketops.errors import MissingDependency
from marketops.leads.predictive import load_report, predictive_in_use, train_model
from marketops.leads.scoring import LEAD_COLUMNS, explain_person, group_names, lead_page, owners
from marketops.workspace import Workspace

router = APIRouter()
PAGE_SIZE = 50

Group = Annotated[str | None, Query(max_length=100, description="Score group (default: the first).")]
MqlFilter = Annotated[Literal["", "yes", "no"], Query(description="yes: only MQLs; no: only people below the "
                                                                  "threshold.")]
OwnerFilter = Annotated[str, Query(max_length=200, description="Owner's name; '-' for people without owner.")]
MinScore = Annotated[float | None, Query(description="Only scores at least this high.")]
EXPLAIN_COLUMNS = ["group", "category", "rule", "events", "points"]
LIFT_COLUMNS = ["method", "decile", "leads", "converted", "rate", "lift", "min_score"]
CALIBRATION_COLUMNS = ["bin", "leads", "predicted", "observed"]


def _can_edit(request: Request) -> bool:
    user = getattr(request.state, "user", None)
    return user is not None and user.role in ("admin", "editor")


def _mql(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


def _page(ws: Workspace, group: str | None, mql: str, owner: str, min_score: float | None, limit: int | None,
          offset: int):
    return lead_page(ws, group=group or None, mql=_mql(mql), owner=owner or None, min_score=min_score,
                     limit=limit, offset=offset)


# -- pages (the fixed paths first: /leads/{person_id} must not take them) ---------------------------
@router.get("/leads")
def leads_page(request: Request, user: Reader, group: Group = None, mql: MqlFilter = "", owner: OwnerFilter = "",
               min_score: MinScore = None, limit: Limit = PAGE_SIZE, offset: Offset = 0) -> Response:
    with read_workspace(request) as ws:
        page = _page(ws, group, mql, owner, min_score, limit, offset)
        ctx = {"page": page, "groups": group_names(ws), "owners": owners(ws), "report": load_report(ws),
               "predictive": predictive_in_use(ws), "threshold": ws.config.leads.scoring.group(page.group).mql_threshold}
    params = {"group": page.group, "mql": mql, "owner": owner, "min_score": "" if min_score is None else min_score}
    return render(request, "leads.html", {**ctx, "mql": mql, "owner": owner, "min_score": min_score, "limit": limit,
                                          "offset": offset, "params": params, "flash": pop_flash(request)})


@router.get("/leads/model")
def model_page(request: Request, user: Reader) -> Response:
    with read_workspace(request) as ws:
        report, in_use = load_report(ws), predictive_in_use(ws)
        use = ws.config.leads.scoring.use
    charts = _model_charts(report, gettext(request)) if report and report.get("lift") else None
    return render(request, "leads_score_model.html", {"report": report, "in_use": in_use, "use": use,
                                                      "charts": bool(charts), "figs": charts,
                                                      "editor": _can_edit(request), "flash": pop_flash(request)})


@router.post("/leads/model", dependencies=[Depends(form_csrf)])
def model_train_form(request: Request, user: Editor) -> Response:
    try:
        with read_workspace(request) as ws:
            report = train_model(ws)
    except MissingDependency as e:
        flash(request, "%(message)s", kind="warn", message=f"{e.message} ({e.hint})")
        return RedirectResponse("/leads/model", status_code=303)
    if report.auc_model is None:
        flash(request, N_("Not enough history to train and test a model: see the notes below."), kind="warn")
    else:
        flash(request, N_("Model trained: held-out AUC %(model)s against %(rules)s for the rules."),
              model=f"{report.auc_model:.3f}", rules=f"{report.auc_rules:.3f}" if report.auc_rules else "–")
    return RedirectResponse("/leads/model", status_code=303)


@router.get("/leads/{person_id}")
def lead_page_one(request: Request, user: Reader, person_id: str) -> Response:
    with read_workspace(request) as ws:
        result = explain_person(ws, person_id)
    t = gettext(request)
    figs = {g.group: figure_json(bar_chart([t("Fit"), t("Engagement")], {t("Points"): [g.fit, g.engagement]},
                                           y_title=t("Points"))) for g in result.groups}
    return render(request, "lead.html", {"x": result, "figs": figs, "charts": True})


def _model_charts(report: dict[str, Any], t: Any) -> dict[str, str]:
    model, rules = report["lift"]["model"], report["lift"]["rules"]
    lift = bar_chart([str(r["decile"]) for r in model], {t("Model"): [r["lift"] for r in model],
                                                          t("Rules"): [r["lift"] for r in rules]},
                     y_title=t("Lift by decile (1 = best scored)"))
    cal = report["calibration"]
    calibration = line_chart([c["bin"] for c in cal], {t("Predicted"): [c["predicted"] * 100 for c in cal],
                                                       t("Observed"): [c["observed"] * 100 for c in cal]},
                             y_title=t("Converted"), percent=True)
    return {"lift": figure_json(lift), "calibration": figure_json(calibration)}


# -- API -------------------------------------------------------------------------------------------
@router.get("/api/v1/leads", response_model=None)
def leads_api(request: Request, user: Reader, group: Group = None, mql: MqlFilter = "", owner: OwnerFilter = "",
              min_score: MinScore = None, limit: Limit = PAGE_SIZE, offset: Offset = 0,
              format: Format = "json") -> dict | Response:
    """People with their score in a group, best first: ``score`` = ``fit`` + ``engagement`` (or the predictive
    chance in percent when that is the score in use), ``mql``; filters ``group``, ``mql=yes|no``, ``owner``
    (``-``: none), ``min_score``; paged. ``?format=csv|xlsx`` downloads every match."""
    every = format != "json"
    with read_workspace(request) as ws:
        page = _page(ws, group, mql, owner, min_score, None if every else limit, 0 if every else offset)
        method = "predictive" if predictive_in_use(ws) else "rules"
    if every:
        return file_of([{c: r.get(c) for c in LEAD_COLUMNS} for r in page.items], list(LEAD_COLUMNS),
                       f"leads_{page.group}", format)
    return page_json(page.items, page.total, limit, offset, group=page.group, method=method, ready=page.ready)


@router.get("/api/v1/leads/model", response_model=None)
def model_api(request: Request, user: Reader,
              table: Annotated[Literal["lift", "calibration"] | None,
                               Query(description="With format=csv|xlsx: lift or calibration.")] = None,
              format: Format = "json") -> dict | Response:
    """The last predictive model report (held-out AUC of the model and of the rules, lift by decile,
    calibration, whether the model is the score in use). ``?table=lift|calibration&format=csv|xlsx``
    downloads one of its tables."""
    with read_workspace(request) as ws:
        report, in_use = load_report(ws), predictive_in_use(ws)
    if report is None:
        return api_error(404, "no model trained yet; train one with POST /api/v1/leads/model")
    if format == "json":
        return {**report, "in_use": in_use}
    if table == "calibration":
        return file_of(report.get("calibration", []), CALIBRATION_COLUMNS, "lead_model_calibration", format)
    rows = [{"method": m, **r} for m in ("model", "rules") for r in (report.get("lift") or {}).get(m, [])]
    return file_of(rows, LIFT_COLUMNS, "lead_model_lift", format)


@router.post("/api/v1/leads/model", response_model=None)
def model_train_api(request: Request, user: Editor) -> dict | Response:
    """Train the predictive score on historical conversions and return its report (editors)."""
    try:
        with read_workspace(request) as ws:
            report = train_model(ws)
            in_use = predictive_in_use(ws)
    except MissingDependency as e:
        return api_error(501, f"{e.message}; {e.hint}")
    return {**report.to_json(), "in_use": in_use}


@router.get("/api/v1/leads/{person_id}/score", response_model=None)
def score_api(request: Request, user: Reader, person_id: str, group: Group = None,
              format: Format = "json") -> dict | Response:
    """Why a person has their score: per group the rules that fired, the events counted and the points
    after decay and caps (they add up to the score). ``person_id`` may also be an email.
    ``?format=csv|xlsx`` downloads the rules."""
    with read_workspace(request) as ws:
        result = explain_person(ws, person_id, group=group)
    if format == "json":
        return result.to_json()
    rows = [{"group": g.group, **r} for g in result.groups for r in g.rules]
    return file_of(rows, EXPLAIN_COLUMNS, f"lead_score_{result.person['person_id']}", format)
