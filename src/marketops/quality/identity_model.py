"""The probabilistic half of identity resolution: a Splink model over names, phone, company and address.

:func:`score_pairs` builds the model from an :class:`~marketops.quality.identity_config.IdentityConfig`,
estimates its parameters from the data itself (no labels) and scores the candidate pairs the
blocking rules produce, on the engine's own connection (DuckDB) or session (Spark):

1. *prior*: how likely two random records are one person, given by the caller from the pairs the
   deterministic identifiers (email, record id, anonymous id) link, divided by their assumed recall;
2. *u* (how often two different people agree on a column by chance): random pairs of records;
3. *m* (how often one person's records agree): expectation maximisation over the pairs of the
   training rules (``training_blocking``: first the pairs that share an email, nearly all one
   person), each column taken from the first rule that estimates it, so a later rule whose block
   holds mostly different people cannot blur it; what training could not see gets a floor (see
   :func:`_complete_levels`);
4. *predict*: every pair of records that agrees on all columns of at least one blocking rule is
   scored; pairs below the review threshold are dropped at once;
5. *identifier check*: the pairs that share an identifier are scored too, whatever their
   probability, so the resolver can see when every other column says "two people".

A blocking rule that would compare more than ``max_pairs_per_record`` pairs per record is skipped
and reported, so one common value cannot make resolution quadratic.

Example (the comparisons a default configuration builds):
    >>> from marketops.quality.identity_config import IdentityConfig
    >>> [c.create_output_column_name() for c in comparisons(["first_name", "phone"], IdentityConfig())]
    ['first_name', 'phone']
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import ibis
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on

from marketops.quality.identity_config import IdentityConfig

if TYPE_CHECKING:
    from splink.internals.comparison_creator import ComparisonCreator
    from splink.internals.database_api import DatabaseAPI
    from splink.internals.splink_dataframe import SplinkDataFrame

    from marketops.engine.base import Engine

#: Derived column holding the given name a first name stands for (nicknames resolved).
GIVEN_NAME = "given_name"
#: The unique id Splink sees: the canonical record key.
UNIQUE_ID = "record_key"



@contextlib.contextmanager
def quiet_splink() -> Iterator[None]:
    """Keep Splink's log lines (progress, "level not observed" warnings) out of the user's terminal:
    the resolver reports what matters in its result instead."""
    log = logging.getLogger("splink")
    saved = log.level, log.propagate, list(log.handlers)
    log.setLevel(logging.ERROR)
    log.propagate = False
    log.handlers = [logging.NullHandler()]
    try:
        yield
    finally:
        log.setLevel(saved[0])
        log.propagate = saved[1]
        log.handlers = saved[2]


# -- comparisons -------------------------------------------------------------------------------
def _exact(col: str, tf: bool) -> cll.ExactMatchLevel:
    level = cll.ExactMatchLevel(col)
    if tf:
        level.configure(tf_adjustment_column=col, tf_adjustment_weight=1.0)
    return level


def _first_name(col: str, tf: bool, cfg: IdentityConfig) -> ComparisonCreator:
    levels = [cll.NullLevel(col), _exact(col, tf)]
    if cfg.nicknames:
        levels.append(cll.CustomLevel(f"{GIVEN_NAME}_l = {GIVEN_NAME}_r", "Nickname of the same given name"))
    levels += [cll.JaroWinklerLevel(col, 0.92), cll.JaroWinklerLevel(col, 0.88), cll.ElseLevel()]
    return cl.CustomComparison(levels, output_column_name=col)


def _name(col: str, tf: bool, cfg: IdentityConfig) -> ComparisonCreator:
    return cl.CustomComparison([cll.NullLevel(col), _exact(col, tf), cll.JaroWinklerLevel(col, 0.92),
                                cll.JaroWinklerLevel(col, 0.88), cll.ElseLevel()], output_column_name=col)


def _phone(col: str, tf: bool, cfg: IdentityConfig) -> ComparisonCreator:
    # A digit dropped or mistyped is the usual slip; E.164 makes everything else comparable.
    return cl.CustomComparison([cll.NullLevel(col), _exact(col, tf), cll.LevenshteinLevel(col, 1),
                                cll.ElseLevel()], output_column_name=col)


def _text(col: str, tf: bool, cfg: IdentityConfig) -> ComparisonCreator:
    return cl.CustomComparison([cll.NullLevel(col), _exact(col, tf), cll.JaroWinklerLevel(col, 0.9),
                                cll.ElseLevel()], output_column_name=col)


def _code(col: str, tf: bool, cfg: IdentityConfig) -> ComparisonCreator:
    return cl.CustomComparison([cll.NullLevel(col), _exact(col, tf), cll.ElseLevel()], output_column_name=col)


def _email(col: str, tf: bool, cfg: IdentityConfig) -> ComparisonCreator:
    user = f"split_part({col}_l, '@', 1) = split_part({col}_r, '@', 1)"
    return cl.CustomComparison([cll.NullLevel(col), _exact(col, tf),
                                cll.CustomLevel(user, "Same mailbox name at another domain"),
                                cll.JaroWinklerLevel(col, 0.88), cll.ElseLevel()], output_column_name=col)


#: How each known people column is compared; any other column is compared as free text.
COMPARISONS: dict[str, Callable[[str, bool, IdentityConfig], ComparisonCreator]] = {
    "first_name": _first_name,
    "last_name": _name,
    "full_name": _name,
    "phone": _phone,
    "company": _text,
    "company_key": _text,
    "address": _text,
    "city": _text,
    "postcode": _code,
    "country": _code,
    "region": _code,
    "email": _email,
}


def comparisons(columns: Sequence[str], cfg: IdentityConfig) -> list[ComparisonCreator]:
    """One Splink comparison per compared column, in the column's order."""
    return [COMPARISONS.get(c, _text)(c, c in cfg.term_frequency, cfg) for c in columns]


# -- engines -----------------------------------------------------------------------------------
def splink_api(engine: Engine) -> DatabaseAPI:
    """Splink's database API on the engine's own connection (DuckDB) or session (Spark)."""
    if engine.name == "spark":
        from splink.backends.spark import similarity_jar_location
        from splink.internals.spark.database_api import SparkAPI

        # The jar holds Splink's string-similarity UDFs; ADD JAR puts it on a running session.
        engine.session.sql(f"ADD JAR '{similarity_jar_location()}'")
        partitions = int(engine.session.conf.get("spark.sql.shuffle.partitions", "4"))
        return SparkAPI(spark_session=engine.session, break_lineage_method="persist",
                        num_partitions_on_repartition=max(1, partitions))
    from splink.internals.duckdb.database_api import DuckDBAPI

    return DuckDBAPI(connection=engine.scratch())


# -- scoring -----------------------------------------------------------------------------------
@dataclass
class BlockingReport:
    """One blocking rule and what it costs."""

    columns: list[str]
    pairs: int
    used: bool
    reason: str | None = None


@dataclass
class ScoredPairs:
    """Candidate pairs scored by the model (only those at or above the review threshold)."""

    predictions: SplinkDataFrame | None
    #: comparison -> {comparison vector value (gamma) -> level label}
    levels: dict[str, dict[int, str]] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    blocking: list[BlockingReport] = field(default_factory=list)
    compared_pairs: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    #: the identifier pairs scored by the model (all of them, no threshold)
    identifier_scores: SplinkDataFrame | None = None
    #: the trained model (Splink settings with m and u), None when nothing could be trained
    model: dict[str, Any] | None = None
    #: probability that two random records are one person, as the model used it
    prior: float | None = None
    db: DatabaseAPI | None = None
    linker: Linker | None = None
    scorer: Linker | None = None
    checker: Linker | None = None
    dropped: list[str] = field(default_factory=list)

    def cleanup(self, engine: Engine) -> None:
        """Drop the tables Splink made (the predictions go too: read them first)."""
        for linker in (self.checker, self.scorer, self.linker):
            if linker is not None:
                linker.table_management.delete_tables_created_by_splink_from_db()
        for name in self.dropped:
            engine.drop(name)


def block_pairs(t: ibis.Table, columns: Sequence[str]) -> int:
    """Pairs a blocking rule compares: records that agree (non-null) on every column."""
    filtered = t.filter([t[c].notnull() for c in columns])
    sizes = filtered.group_by(list(columns)).agg(n=filtered.count())
    total = (sizes.n * (sizes.n - 1) / 2).sum().execute()
    return 0 if total is None or (isinstance(total, float) and math.isnan(total)) else int(total)


def choose_blocking(t: ibis.Table, n_records: int, cfg: IdentityConfig,
                    available: set[str]) -> list[BlockingReport]:
    """The configured rules with their cost; rules over missing columns or too many pairs are not used."""
    budget = cfg.max_pairs_per_record * max(n_records, 1)
    out = []
    for rule in cfg.blocking:
        missing = [c for c in rule if c not in available]
        if missing:
            out.append(BlockingReport(rule, 0, False, f"no values in {', '.join(missing)}"))
            continue
        pairs = block_pairs(t, rule)
        if pairs == 0:
            out.append(BlockingReport(rule, 0, False, "no two records agree on these columns"))
        elif pairs > budget:
            out.append(BlockingReport(rule, pairs, False,
                                      f"{pairs:,} pairs is over the limit of {cfg.max_pairs_per_record:g} per record"))
        else:
            out.append(BlockingReport(rule, pairs, True))
    return out


def training_rules(t: ibis.Table, n_records: int, cfg: IdentityConfig, available: set[str],
                   blocking: Sequence[BlockingReport], columns: Sequence[str]) -> list[list[str]]:
    """Rules for expectation maximisation: the configured training rules in order, then the used
    prediction rules (fewest pairs first), each taken while it teaches a compared column that no
    earlier rule taught, skipped when its columns hold no values or it has no pairs or too many."""
    todo = set(columns)
    chosen: list[list[str]] = []
    budget = cfg.max_pairs_per_record * max(n_records, 1)
    fallback = [r.columns for r in sorted((r for r in blocking if r.used and r.pairs > 0), key=lambda r: r.pairs)]
    for rule in [*cfg.training_blocking, *fallback]:
        if not todo:
            break
        if not todo - set(rule) or not all(c in available for c in rule):
            continue
        if 0 < block_pairs(t, rule) <= budget:
            chosen.append(rule)
            todo &= set(rule)
    return chosen


def score_pairs(engine: Engine, table: str, n_records: int, columns: Sequence[str], cfg: IdentityConfig, *,
                prior: float | None, identifier_pairs: str | None = None) -> ScoredPairs:
    """Train a model on ``table`` (``record_key`` and the compared columns) and score its candidate
    pairs; see the module docs for the phases.

    ``identifier_pairs`` names a table (``record_key_l``, ``record_key_r``) of pairs that share an
    identifier: they are scored too, whatever their probability (``ScoredPairs.identifier_scores``),
    so the caller can see when everything but the identifier says "two people".

    ``prior`` is how likely two random records are one person, estimated by the caller from the
    pairs the identifiers link. Without it (a source with no usable identifiers) the model assumes
    about one record in two has a duplicate somewhere, the order of magnitude CRM exports show;
    otherwise the estimate would be zero and nothing could ever match.
    """
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    t = engine.con.table(table)
    available = set(t.columns)
    blocking = choose_blocking(t, n_records, cfg, available)
    seconds["blocking_analysis"] = time.perf_counter() - started
    used = [r.columns for r in blocking if r.used]
    result = ScoredPairs(None, blocking=blocking, compared_pairs=sum(r.pairs for r in blocking if r.used),
                         seconds=seconds)
    if not used or not columns or n_records < 2:
        return result

    with quiet_splink(), _cleanup_on_error(result, engine):
        _train_and_predict(engine, table, n_records, columns, cfg, prior, used, blocking, result)
        if identifier_pairs is not None and result.model is not None:
            step = time.perf_counter()
            checker = Linker(result.db.register(table), copy.deepcopy(result.model), log_level=None)
            result.checker = checker
            pairs = engine.con.table(identifier_pairs)
            blocked = f"{identifier_pairs}_blocked"
            engine.write(blocked, pairs.select(match_key=ibis.literal("0"), join_key_l=pairs.record_key_l,
                                               join_key_r=pairs.record_key_r))
            result.dropped.append(blocked)
            checker.table_management.register_blocked_pairs_for_predict(result.db.register(blocked))
            result.identifier_scores = checker.inference.predict(warning_mode="never")
            seconds["identifier_check"] = time.perf_counter() - step
    return result


@contextlib.contextmanager
def _cleanup_on_error(result: ScoredPairs, engine: Engine) -> Iterator[None]:
    """Splink's working tables live in the warehouse: a failed run must not leave them behind."""
    try:
        yield
    except BaseException:
        result.cleanup(engine)
        raise


def _train_and_predict(engine: Engine, table: str, n_records: int, columns: Sequence[str], cfg: IdentityConfig,
                       prior: float | None, used: list[list[str]], blocking: list[BlockingReport],
                       result: ScoredPairs) -> None:
    seconds = result.seconds
    prior_value = prior if prior and 0 < prior < 1 else 1.0 / n_records
    db = splink_api(engine)
    result.db = db
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name=UNIQUE_ID,
        comparisons=comparisons(columns, cfg),
        blocking_rules_to_generate_predictions=[block_on(*r) for r in used],
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,
        max_iterations=20,
        probability_two_random_records_match=prior_value,
    )
    linker = Linker(db.register(table), settings, log_level=None)
    result.linker = linker

    step = time.perf_counter()
    linker.training.estimate_u_using_random_sampling(max_pairs=cfg.training_pairs, seed=cfg.seed)
    seconds["u_sampling"] = time.perf_counter() - step

    step = time.perf_counter()
    m_first: dict[str, list[float | None]] = {}
    for rule in training_rules(engine.con.table(table), n_records, cfg, set(engine.con.table(table).columns),
                               blocking, columns):
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on(*rule), max_pairs=cfg.training_pairs, estimate_without_term_frequencies=True)
        # Keep each column's m from the first (fewest pairs, most telling) rule that estimates it;
        # Splink would average it with later rules whose blocks hold far more non-matches.
        for comp in linker.misc.save_model_to_json()["comparisons"]:
            name = comp["output_column_name"]
            m = [lv.get("m_probability") for lv in comp["comparison_levels"]]
            if name not in m_first and name not in rule and any(v is not None for v in m):
                m_first[name] = m
    model = linker.misc.save_model_to_json()
    for comp in model["comparisons"]:
        _complete_levels(comp["comparison_levels"], m_first.get(comp["output_column_name"]),
                         0.5 / cfg.training_pairs)
    seconds["m_em"] = time.perf_counter() - step

    result.model = model
    result.prior = prior_value
    step = time.perf_counter()
    scorer = Linker(db.register(table), copy.deepcopy(model), log_level=None)
    result.scorer = scorer
    result.predictions = scorer.inference.predict(threshold_match_probability=cfg.review_threshold,
                                                  warning_mode="never")
    seconds["predict"] = time.perf_counter() - step

    result.levels = _level_labels(model)
    result.parameters = _parameters(model, {
        "probability_two_random_records_match": _round(prior_value),
        "prior_from": "identifier links" if prior_value == prior else "fallback: no identifier links"})


#: The least m a level gets (such as two different surnames among records that share an email):
#: rare among matches, so strong evidence against, but finite, so that no single column can
#: outvote all the others however few matching pairs training saw disagree on it.
UNSEEN_M = 0.001


def _complete_levels(levels: list[dict[str, Any]], first: list[float | None] | None, u_floor: float) -> None:
    """Fill in what training could not see, so that no level is left without a weight.

    - u that random sampling never saw (two random records with the same phone): ``u_floor``,
      about one in the pairs sampled;
    - m of the last level ("all other comparisons") that no matching pair showed: small,
      :data:`UNSEEN_M`, which makes a disagreement strong evidence against;
    - m of an in-between level no matching pair showed (a typo in a city): equal to its u, so the
      level says nothing rather than guessing;
    - any other m is kept (the estimate of the first rule that taught the column), at least
      :data:`UNSEEN_M`, and the set is rescaled to sum to 1.

    A column no rule could estimate (it is in every training rule) gets a generic shape: most
    matches on the top level, the rest shared by the fuzzy levels, the last level unseen.
    """
    non_null = [lv for lv in levels if not lv.get("is_null_level")]
    idx = [i for i, lv in enumerate(levels) if not lv.get("is_null_level")]
    _floor(non_null, "u_probability", [lv.get("u_probability") for lv in non_null], u_floor)
    values = [(first or [None] * len(levels))[i] for i in idx]
    if all(v is None for v in values):
        fuzzy = len(values) - 2
        values = [0.9] + [0.1 / fuzzy] * fuzzy + [None] if fuzzy > 0 else [1.0, None]
    last = len(values) - 1
    fixed: dict[int, float] = {}
    for k, v in enumerate(values):
        if v is None and k != last:
            fixed[k] = non_null[k]["u_probability"]
        elif v is None or v < UNSEEN_M:
            fixed[k] = UNSEEN_M
    rest = sum(v for k, v in enumerate(values) if k not in fixed)
    scale = (1 - sum(fixed.values())) / rest if rest else 0.0
    for k, lv in enumerate(non_null):
        lv["m_probability"] = fixed[k] if k in fixed else values[k] * scale


def _floor(levels: list[dict[str, Any]], key: str, values: list[float | None], floor: float) -> None:
    """Write ``values`` to ``key`` raised to at least ``floor``, rescaling the rest to sum to 1."""
    low = [v is None or v < floor for v in values]
    rest = sum(v for v, is_low in zip(values, low) if not is_low)
    scale = (1 - floor * sum(low)) / rest if rest else 0.0
    for lv, v, is_low in zip(levels, values, low):
        lv[key] = floor if is_low else v * scale


def _level_labels(model: dict[str, Any]) -> dict[str, dict[int, str]]:
    """Comparison -> gamma value -> label. Splink numbers non-null levels from the top down to 0."""
    out: dict[str, dict[int, str]] = {}
    for comp in model["comparisons"]:
        levels = comp["comparison_levels"]
        non_null = [lv for lv in levels if not lv.get("is_null_level")]
        labels = {-1: "missing on one side"}
        for i, lv in enumerate(non_null):
            labels[len(non_null) - 1 - i] = lv.get("label_for_charts") or lv["sql_condition"]
        out[comp["output_column_name"]] = labels
    return out


def _parameters(model: dict[str, Any], prior: dict[str, Any]) -> dict[str, Any]:
    """The trained model as a small JSON-able dict: prior, and per column per level m, u, weight."""
    cols: dict[str, list[dict[str, Any]]] = {}
    for comp in model["comparisons"]:
        rows = []
        for lv in comp["comparison_levels"]:
            if lv.get("is_null_level"):
                continue
            m, u = lv.get("m_probability"), lv.get("u_probability")
            weight = math.log2(m / u) if m and u else None
            rows.append({"level": lv.get("label_for_charts"), "m": _round(m), "u": _round(u),
                         "match_weight": _round(weight)})
        cols[comp["output_column_name"]] = rows
    return {**prior, "comparisons": cols}


def _round(x: float | None) -> float | None:
    return None if x is None else float(f"{x:.6g}")
