"""The predictive lead score: a model trained on historical conversions, reported against the rules
score on held-out data, and offered as the score only when it beats the rules.

* **Leads**: a person became a lead at their first lifecycle stage entered (``lifecycle_stages``),
  else when their record was created.
* **Label**: converted = reached one of ``predictive.converted_stages`` (default SQL, opportunity,
  customer) after becoming a lead and within ``window_days`` (90). Leads too recent for the window to
  have passed (the data ends before it closes) are left out.
* **Features**, as the lead stood ``observe_days`` (7) after becoming a lead: the fit fields (seniority,
  job function, country, industry, segment, lead source, employees, role / disposable mailbox) and the
  count of each activity (page views, pricing pages, form fills, email opens and clicks, ad clicks,
  webinars) up to then. The rules score of the first group is computed at the same moment, so the
  two are compared on the same information.
* **Split**: by time: the oldest leads train, the newest ``test_fraction`` (30 %) test.
* **Report** (held-out leads): AUC of both, lift by decile of both, calibration of the model. The
  report and the model are saved in ``.marketops/models/``; with ``use: auto`` the model becomes the
  score when its AUC beats the rules' by ``min_auc_gain``.

scikit-learn is an optional extra (``pip install 'marketops[predict]'``), imported only here and only
when a model is trained or applied.

Example:
    >>> import tempfile, pathlib
    >>> from marketops.workspace import Workspace
    >>> ws = Workspace.init(pathlib.Path(tempfile.mkdtemp()) / "acme")
    >>> predictive_in_use(ws), load_report(ws) is None
    (False, True)
    >>> ws.close()
"""

from __future__ import annotations

import json
import math
import pickle
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa

from marketops.errors import MissingDependency, NotFound
from marketops.leads.scoring_config import ACTIVITIES, EngagementRule
from marketops.leads.scoring_rules import activity_condition, score_rows
from marketops.lifecycle import STAGE_ALIASES, stage_key_column, stage_spellings
from marketops.workspace import Workspace

CATEGORICAL = ("seniority", "job_function", "country", "industry", "segment", "lead_source")
NUMERIC = ("employees", "email_role", "email_disposable")
#: Activity counts the model sees: name -> the rule that counts them.
ACTIVITY_FEATURES = {
    **{f"n_{a}": EngagementRule(name=a, activity=a, points=1) for a in ACTIVITIES if a not in ("any", "event")},
    "n_pricing": EngagementRule(name="pricing", activity="page_view", url="/pricing", points=1),
}
REPORT_FILE, MODEL_FILE = "lead_score_report.json", "lead_score_model.pkl"
RANDOM_STATE = 7


def _sklearn() -> Any:
    try:
        import sklearn
    except ImportError:
        raise MissingDependency("the predictive lead score", "predict") from None
    return sklearn


def models_dir(ws: Workspace) -> Path:
    return ws.state_dir / "models"


def load_report(ws: Workspace) -> dict[str, Any] | None:
    """The last training report (None before the first ``marketops leads model``)."""
    path = models_dir(ws) / REPORT_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def predictive_in_use(ws: Workspace) -> bool:
    """Whether the predictive score is the score: ``use: predictive`` with a trained model, or ``use:
    auto`` and the last report says the model beat the rules."""
    use = ws.config.leads.scoring.use
    if use == "rules" or not (models_dir(ws) / MODEL_FILE).exists():
        return False
    if use == "predictive":
        return True
    report = load_report(ws)
    return bool(report and report.get("model_beats_rules"))


# -- data ------------------------------------------------------------------------------------------
def lead_moments(ws: Workspace) -> ibis.Table | None:
    """``person_id``, ``lead_at`` and ``converted_at`` (first converted stage after becoming a lead)."""
    if not ws.engine.has_table("golden_people"):
        return None
    cfg = ws.config.leads.scoring.predictive
    gp = ws.engine.table("golden_people")
    firsts = gp.select("person_id", created=gp.created_at.cast("timestamp"))
    if ws.engine.has_table("lifecycle_stages"):
        ls = ws.engine.table("lifecycle_stages")
        ls = ls.filter(ls.person_id.notnull()).mutate(_k=stage_key_column(ls.stage))
        conv_spellings = stage_spellings(cfg.converted_stages)
        first = ls.group_by("person_id").aggregate(first_stage=ls.entered_at.min())
        firsts = firsts.left_join(first, "person_id").select(
            "person_id", lead_at=ibis.coalesce(first.first_stage, firsts.created))
        conv = ls.filter(ls._k.isin(conv_spellings))
        joined = conv.join(firsts, "person_id")
        after = joined.filter(joined.entered_at >= joined.lead_at)
        converted = after.group_by("person_id").aggregate(converted_at=after.entered_at.min())
        return firsts.left_join(converted, "person_id").select("person_id", "lead_at", "converted_at").filter(
            lambda t: t.lead_at.notnull())
    return firsts.select("person_id", lead_at=firsts.created,
                         converted_at=ibis.null("timestamp")).filter(lambda t: t.lead_at.notnull())


def _features(ws: Workspace, persons: ibis.Table, acts: ibis.Table | None) -> ibis.Table:
    """``persons`` (with ``_as_of_epoch``) with the activity counts up to each one's moment."""
    if acts is None:
        return persons.mutate(**{k: ibis.literal(0) for k in ACTIVITY_FEATURES})
    a = acts.join(persons.select("person_id", "_as_of_epoch"), "person_id")
    a = a.filter(a.occurred_at.epoch_seconds().cast("float64") <= a._as_of_epoch)
    counts = a.group_by("person_id").aggregate(**{
        k: ibis.cases((activity_condition(rule, a), 1), else_=0).sum() for k, rule in ACTIVITY_FEATURES.items()})
    t = persons.left_join(counts, "person_id")
    return t.select(*persons.columns, **{k: ibis.coalesce(t[k], 0) for k in ACTIVITY_FEATURES})


def _frame(t: ibis.Table) -> Any:
    df = t.to_pandas()
    for c in CATEGORICAL:
        df[c] = df[c].astype("object").where(df[c].notna(), "(none)").astype(str)
    for c in NUMERIC:
        df[c] = df[c].astype("float64").fillna(0.0)
    df["employees"] = df["employees"].map(lambda v: math.log1p(max(v, 0.0)))
    for c in ACTIVITY_FEATURES:
        df[c] = df[c].astype("float64")
    return df


# -- training and the report ----------------------------------------------------------------------
@dataclass
class ModelReport:
    trained_at: str
    group: str
    leads: int
    train: int
    test: int
    test_converted: int
    train_until: str | None
    auc_model: float | None
    auc_rules: float | None
    min_auc_gain: float
    model_beats_rules: bool
    in_use: bool
    lift: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # model / rules -> deciles
    calibration: list[dict[str, Any]] = field(default_factory=list)
    label: str = ""
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def lift_by_decile(scores: Any, labels: Any, ids: Any) -> list[dict[str, Any]]:
    """Held-out leads sorted by score (best first, ties by id) in ten near-equal deciles: leads,
    converted, conversion rate and lift (rate / the overall rate).

    >>> rows = lift_by_decile([0.9, 0.1, 0.5, 0.7], [1, 0, 0, 1], ["a", "b", "c", "d"])
    >>> sum(r["leads"] for r in rows), rows[0]["converted"]
    (4, 1)
    """
    import numpy as np

    scores, labels, ids = np.asarray(scores, float), np.asarray(labels, int), np.asarray(ids, str)
    order = np.lexsort((ids, -scores))
    overall = labels.mean() if len(labels) else 0.0
    rows = []
    for i, chunk in enumerate(np.array_split(order, 10), start=1):
        n, conv = len(chunk), int(labels[chunk].sum()) if len(chunk) else 0
        rate = conv / n if n else 0.0
        rows.append({"decile": i, "leads": n, "converted": conv, "rate": rate,
                     "lift": float(rate / overall) if overall else None,
                     "min_score": float(scores[chunk].min()) if n else None})
    return rows


def calibration_bins(probabilities: Any, labels: Any, bins: int = 10) -> list[dict[str, Any]]:
    """Predicted vs observed per equal-width bin of the predicted chance (empty bins left out).

    >>> calibration_bins([0.05, 0.07, 0.95], [0, 1, 1])[0]["observed"]
    0.5
    """
    import numpy as np

    p, y = np.asarray(probabilities, float), np.asarray(labels, int)
    idx = np.minimum((p * bins).astype(int), bins - 1)
    out = []
    for b in range(bins):
        mask = idx == b
        if mask.any():
            out.append({"bin": f"{b / bins:.1f}-{(b + 1) / bins:.1f}", "leads": int(mask.sum()),
                        "predicted": float(p[mask].mean()), "observed": float(y[mask].mean())})
    return out


def _auc(labels: Any, scores: Any) -> float | None:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores)) if len(set(labels)) == 2 else None


def _model() -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    prep = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore", min_frequency=5), list(CATEGORICAL)),
                              ("num", StandardScaler(), [*NUMERIC, *ACTIVITY_FEATURES])])
    return Pipeline([("prep", prep), ("clf", LogisticRegression(C=0.5, max_iter=2000, random_state=RANDOM_STATE))])


def training_frame(ws: Workspace) -> Any:
    """Matured leads with features, the rules score at the same moment and the label (a DataFrame)."""
    from marketops.leads.scoring import scoring_inputs

    cfg = ws.config.leads.scoring
    inputs = scoring_inputs(ws)
    moments = lead_moments(ws)
    if inputs is None or moments is None:
        raise NotFound("no people yet: run the pipeline first (`marketops run`)")
    p = cfg.predictive
    data_end = inputs.as_of
    observe = timedelta(days=p.observe_days)
    m = moments.filter(moments.lead_at.cast("timestamp") + ibis.interval(days=p.window_days) <= data_end)
    persons = inputs.persons.drop("_as_of_epoch", "scored_at").join(m, "person_id")
    snap = persons.lead_at.cast("timestamp").epoch_seconds().cast("float64") + observe.total_seconds()
    persons = persons.mutate(_as_of_epoch=snap, scored_at=persons.lead_at.cast("timestamp"))
    group = inputs.groups[0]
    rules = score_rows(persons, inputs.activities, [group], inputs.half_life_days).select(
        "person_id", rules_score="score")
    feats = _features(ws, persons, inputs.activities)
    t = feats.join(rules, "person_id")
    conv_deadline = t.lead_at.cast("timestamp") + ibis.interval(days=p.window_days)
    label = ibis.cases((t.converted_at.notnull() & (t.converted_at <= conv_deadline), 1), else_=0)
    df = _frame(t.mutate(label=label))
    return df.sort_values(["lead_at", "person_id"]).reset_index(drop=True), group.name


def train_model(ws: Workspace, *, now: datetime | None = None) -> ModelReport:
    """Train on the older leads, test on the newer, save the model and the report, and return it."""
    _sklearn()
    cfg = ws.config.leads.scoring
    df, group = training_frame(ws)
    p = cfg.predictive
    label_text = (f"reached {', '.join(p.converted_stages)} within {p.window_days} days of becoming a lead; "
                  f"features as of {p.observe_days} days after")
    n = len(df)
    n_test = round(n * p.test_fraction)
    train, test = df.iloc[: n - n_test], df.iloc[n - n_test:]
    notes: list[str] = []
    base = {"trained_at": (now or datetime.now(UTC)).isoformat(), "group": group, "leads": n, "train": len(train),
            "test": len(test), "test_converted": int(test.label.sum()) if n else 0,
            "train_until": str(train.lead_at.max()) if len(train) else None, "min_auc_gain": p.min_auc_gain,
            "label": label_text}
    if len(train) < 20 or train.label.nunique() < 2 or len(test) < 10:
        notes.append("not enough matured leads with and without conversions to train and test a model")
        report = ModelReport(**base, auc_model=None, auc_rules=None, model_beats_rules=False, in_use=False,
                             notes=notes)
        _save(ws, report, None)
        return report
    model = _model()
    cols = [*CATEGORICAL, *NUMERIC, *ACTIVITY_FEATURES]
    model.fit(train[cols], train.label.to_numpy())
    prob = model.predict_proba(test[cols])[:, 1]
    y = test.label.to_numpy()
    auc_m, auc_r = _auc(y, prob), _auc(y, test.rules_score.to_numpy())
    beats = auc_m is not None and auc_r is not None and auc_m >= auc_r + p.min_auc_gain
    if auc_m is None:
        notes.append("the held-out leads all have the same outcome: AUC is undefined")
    ids = test.person_id.to_numpy()
    report = ModelReport(**base, auc_model=auc_m, auc_rules=auc_r, model_beats_rules=bool(beats),
                         in_use=cfg.use == "predictive" or (cfg.use == "auto" and bool(beats)),
                         lift={"model": lift_by_decile(prob, y, ids),
                               "rules": lift_by_decile(test.rules_score.to_numpy(), y, ids)},
                         calibration=calibration_bins(prob, y), notes=notes)
    _save(ws, report, model)
    return report


def _save(ws: Workspace, report: ModelReport, model: Any) -> None:
    d = models_dir(ws)
    d.mkdir(parents=True, exist_ok=True)
    model_path = d / MODEL_FILE
    if model is not None:
        tmp = model_path.with_suffix(".tmp")
        tmp.write_bytes(pickle.dumps({"model": model, "columns": [*CATEGORICAL, *NUMERIC, *ACTIVITY_FEATURES]}))
        tmp.replace(model_path)
    elif model_path.exists():
        model_path.unlink()  # a report that could not train must not leave an older model in use
    tmp = d / (REPORT_FILE + ".tmp")
    tmp.write_text(json.dumps(report.to_json(), indent=2, default=str), encoding="utf-8")
    tmp.replace(d / REPORT_FILE)


# -- applying the model ---------------------------------------------------------------------------
def predictive_scores(ws: Workspace, today: date | None = None) -> ibis.Table | None:
    """Every person's predicted chance (in percent) as the score of every group, with the rules'
    fit and engagement beside it; MQL when the chance reaches ``mql_probability``."""
    _sklearn()
    from marketops.leads.scoring import rules_expressions, scoring_inputs

    pair = rules_expressions(ws, today)
    inputs = scoring_inputs(ws, today=today)
    if pair is None or inputs is None:
        return None
    saved = pickle.loads((models_dir(ws) / MODEL_FILE).read_bytes())  # written by train_model only
    df = _frame(_features(ws, inputs.persons, inputs.activities))
    prob = saved["model"].predict_proba(df[saved["columns"]])[:, 1] if len(df) else []
    chances = ibis.memtable(pa.table({"person_id": pa.array(df.person_id.astype(str).tolist(), pa.string()),
                                      "_p": pa.array(list(map(float, prob)), pa.float64())}))
    rules = pair[0]
    t = rules.join(chances, "person_id")
    threshold = ws.config.leads.scoring.predictive.mql_probability
    return t.select(person_id=t.person_id, group=t.group, score=(t._p * 100.0), fit=t.fit,
                    engagement=t.engagement, mql=t._p >= threshold, scored_at=t.scored_at)


# Stage spellings the label understands, for the docs.
KNOWN_STAGES = sorted(set(STAGE_ALIASES.values()))
