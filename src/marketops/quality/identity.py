"""Identity resolution of people: which source records are one human, as a stable ``person_id``.

:func:`resolve_people` reads a clean people table (after the normalise step) and writes two tables:

``identity_map`` — one row per people source record:

=====================  ==========================================================================
``record_key``         the record's canonical key (``<source_system>:<natural key>``)
``source_system``      the system the record came from
``record_id``          its id in that system
``email``              its clean email
``person_id``          ``P`` + 16 hex digits, a hash of the smallest record key of the person, so
                       it stays the same across runs while the person's records do not change
``match_probability``  probability of the strongest link that joined the record to its person
                       (1.0 for an identifier or a decision; NULL for a record alone)
``match_rule``         kind of that link: ``decision``, ``email``, ``record_id``, ``anonymous_id``
                       (or another identifier column), ``probabilistic``; ``single`` when alone
=====================  ==========================================================================

``identity_pairs`` — the candidate pairs: every pair the model scored at or above the review
threshold, and every identifier pair the model vetoed. Columns: ``pair_id`` (hash of the sorted
pair), ``record_key_l``, ``record_key_r``, ``match_probability``, ``match_weight``, ``status``
(``merged``: at or above the match threshold, or an always-merge decision; ``review``: between
the thresholds, or records that share an identifier while every other column says two people;
``rejected``: a never-merge decision kept the two apart, directly or through other records),
``same_person`` (the two records ended in one person, whatever linked them), ``evidence`` (a JSON
list, one object per compared column: ``column``, ``left``, ``right``, ``level``,
``bayes_factor``, ``match_weight`` in bits, so a reviewer sees which fields agreed and how
strongly) and the display columns ``first_name_l/_r``, ``last_name_l/_r``, ``email_l/_r``,
``phone_l/_r``, ``company_l/_r``, ``city_l/_r``.

How records are linked, strongest first (see :mod:`marketops.quality.clusters`):

1. always-merge decisions;
2. identifiers (:mod:`marketops.quality.identifiers`): same clean email, same record id within
   one system, same anonymous id, unless the names clearly differ or the model, weighing every
   other column, says "two people" (``identifier_veto``);
3. the model's pairs at or above the match threshold (:mod:`marketops.quality.identity_model`).

Never-merge decisions hold even through other records.

Example:
    >>> import tempfile, pathlib, pyarrow as pa
    >>> from marketops.engine.duckdb import DuckDBEngine
    >>> eng = DuckDBEngine(pathlib.Path(tempfile.mkdtemp()))
    >>> eng.write("people", pa.table({
    ...     "record_key": ["crm:1", "crm:2", "shop:9"], "_source_system": ["crm", "crm", "shop"],
    ...     "record_id": ["1", "2", "9"], "email": ["ann@x.com", None, "ann@x.com"],
    ...     "first_name": ["Ann", "Bo", "Ann"], "last_name": ["Lee", "Park", "Lee"]}))
    >>> res = resolve_people(eng, "people", map_table="identity_map", pairs_table="identity_pairs")
    >>> res.records, res.persons, res.links
    (3, 2, {'email': 1})
    >>> eng.con.table("identity_map").order_by("record_key").match_rule.to_pyarrow().to_pylist()
    ['email', 'single', 'email']
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from marketops.errors import ValidationFailed
from marketops.quality.clusters import Links, cluster
from marketops.quality.decisions import Decisions, pair
from marketops.quality.identifiers import IdentifierPairs, identifier_pairs
from marketops.quality.identity_config import IdentityConfig
from marketops.quality.identity_model import GIVEN_NAME, score_pairs
from marketops.quality.identity_tables import (
    DISPLAY,
    UNIQUE_ID,
    KeyIndex,
    fetch,
    floats,
    identity_map,
    identity_pairs,
)
from marketops.quality.nicknames import NICKNAMES

if TYPE_CHECKING:
    from marketops.engine.base import Engine


@dataclass
class IdentityResult:
    """What one resolution did: counts, costs and the trained model."""

    map_table: str
    pairs_table: str
    records: int = 0
    persons: int = 0
    #: accepted links by kind (a link lies inside one person); identifiers link each record of a
    #: group to the group's first record, so they count records - groups
    links: dict[str, int] = field(default_factory=dict)
    review_pairs: int = 0
    rejected_pairs: int = 0
    #: identifier links the model vetoed (shared mailbox or device: sent to review instead)
    vetoed_identifier_links: int = 0
    #: candidate pairs the blocking rules produced (what the model had to score)
    compared_pairs: int = 0
    #: compared columns the model used (configured columns that hold values)
    columns: list[str] = field(default_factory=list)
    #: each blocking rule: columns, pairs, used, reason when not used
    blocking: list[dict[str, Any]] = field(default_factory=list)
    #: probability that two random records are one person (from the identifier links)
    prior: float | None = None
    #: prior, and m, u and match weight per column and level
    parameters: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def resolve_people(engine: Engine, people_table: str, config: IdentityConfig | None = None, *,
                   map_table: str, pairs_table: str, decisions: Decisions | None = None) -> IdentityResult:
    """Resolve the people in ``people_table`` into persons; write ``map_table`` and ``pairs_table``.

    ``people_table`` is a physical table readable with ``engine.con.table`` holding at least
    ``record_key``; the columns of the normalise step's contract are used when present
    (``_source_system``, ``record_id``, ``email``, ``phone``, names, ``company_key``, address...).
    ``decisions`` are the reviewers' always- and never-merge pairs (record keys); pairs naming a
    record that is not in the table are ignored.
    """
    cfg = config or IdentityConfig()
    decisions = decisions or Decisions()
    clock = _Clock()
    people = engine.con.table(people_table)
    if UNIQUE_ID not in people.columns:
        raise ValidationFailed(f"table {people_table} has no record_key column, which identity resolution needs")
    result = IdentityResult(map_table, pairs_table)

    records = _records(people, cfg).to_pyarrow().sort_by(UNIQUE_ID)
    n = result.records = records.num_rows
    keys = records[UNIQUE_ID].combine_chunks()
    index = KeyIndex(keys)
    clock.lap("read")

    found = identifier_pairs(records, cfg)
    result.prior = _prior(n, found, cfg)
    checked = np.array([found.kinds[k] != "record_id" for k in found.kind], dtype=bool)
    clock.lap("identifiers")

    columns = result.columns = _columns_with_values(people, cfg, n)
    input_table, id_table = f"{pairs_table}_input", f"{pairs_table}_identifiers"
    engine.write(input_table, _model_input(people, columns, cfg))
    if checked.any():
        engine.write(id_table, pa.table({"record_key_l": keys.take(found.left[checked]),
                                         "record_key_r": keys.take(found.right[checked])}))
    clock.lap("model_input")
    scored = score_pairs(engine, input_table, n, columns, cfg, prior=result.prior,
                         identifier_pairs=id_table if checked.any() else None)
    try:
        result.seconds.update({k: round(v, 3) for k, v in scored.seconds.items()})
        result.blocking = [asdict(b) for b in scored.blocking]
        result.compared_pairs = scored.compared_pairs
        result.parameters = scored.parameters
        clock.skip(sum(scored.seconds.values()))
        predictions = fetch(engine, scored.predictions, columns)
        id_scores = fetch(engine, scored.identifier_scores, columns)
        clock.lap("fetch_pairs")
    finally:
        scored.cleanup(engine)
        engine.drop(input_table)
        engine.drop(id_table)

    vetoed = _vetoed(found, checked, id_scores, index, scored.prior, cfg)
    result.vetoed_identifier_links = int(vetoed.sum())
    kinds = ["decision", *found.kinds, "probabilistic"]
    always, never = _decision_pairs(decisions.always, index), _decision_pairs(decisions.never, index)
    pl, pr = index.positions(predictions["record_key_l"]), index.positions(predictions["record_key_r"])
    prob = floats(predictions["match_probability"])
    strong = prob >= cfg.match_threshold
    keep = ~vetoed
    links = Links.concat([
        Links(always[:, 0], always[:, 1], np.ones(len(always)), np.zeros(len(always), dtype=np.int64)),
        Links(found.left[keep], found.right[keep], np.ones(int(keep.sum())), found.kind[keep] + 1),
        Links(pl[strong], pr[strong], prob[strong], np.full(int(strong.sum()), len(kinds) - 1)),
    ]).ordered()
    clustering = cluster(n, links, [tuple(p) for p in never.tolist()])
    clock.lap("cluster")

    labels = clustering.labels
    result.persons = len(np.unique(labels))
    accepted = links.kind[clustering.accepted]
    result.links = {kinds[k]: int(c) for k, c in zip(*np.unique(accepted, return_counts=True))}
    engine.write(map_table, identity_map(records, labels, links, clustering.accepted, kinds))
    clock.lap("write_map")

    refused = {(int(links.left[k]), int(links.right[k])) for k in np.flatnonzero(clustering.refused)}
    candidates = _with_vetoed(predictions, id_scores, found, vetoed, keys)
    pairs = identity_pairs(candidates, records, index, labels, cfg, decisions, refused, scored.levels, columns)
    result.review_pairs = int(pc.sum(pc.equal(pairs["status"], "review")).as_py() or 0)
    result.rejected_pairs = int(pc.sum(pc.equal(pairs["status"], "rejected")).as_py() or 0)
    engine.write(pairs_table, pairs)
    clock.lap("write_pairs")
    result.seconds.update(clock.laps)
    result.seconds["total"] = round(clock.total(), 3)
    return result


def _decision_pairs(pairs: frozenset[tuple[str, str]], index: KeyIndex) -> np.ndarray:
    """Decision pairs as row positions (an (n, 2) array); pairs naming an unknown record are dropped."""
    ordered = sorted(pairs)
    if not ordered:
        return np.empty((0, 2), dtype=np.int64)
    pos = np.stack([index.positions(pa.array([a for a, _ in ordered])),
                    index.positions(pa.array([b for _, b in ordered]))], axis=1)
    return pos[(pos >= 0).all(axis=1)]


def _prior(n: int, found: IdentifierPairs, cfg: IdentityConfig) -> float | None:
    """How likely two random records are one person: pairs inside the groups the identifiers form,
    over all pairs, scaled up by the share of duplicates the identifiers are assumed to find."""
    groups = cluster(n, Links(found.left, found.right, np.ones(len(found)), np.zeros(len(found), dtype=np.int64)))
    sizes = np.bincount(groups.labels, minlength=n).astype(np.float64)
    observed = float((sizes * (sizes - 1) / 2).sum())
    total = n * (n - 1) / 2
    return min(observed / cfg.deterministic_recall / total, 0.5) if total and observed else None


def _vetoed(found: IdentifierPairs, checked: np.ndarray, scores: pa.Table, index: KeyIndex,
            prior: float | None, cfg: IdentityConfig) -> np.ndarray:
    """Identifier pairs whose other columns weigh more than ``identifier_veto`` bits against them."""
    vetoed = np.zeros(len(found), dtype=bool)
    if not scores.num_rows or not prior:
        return vetoed
    evidence = floats(scores["match_weight"]) - math.log2(prior / (1 - prior))
    against = evidence < cfg.identifier_veto
    if not against.any():
        return vetoed
    bad = set(zip(index.positions(scores["record_key_l"])[against].tolist(),
                  index.positions(scores["record_key_r"])[against].tolist()))
    bad |= {(b, a) for a, b in bad}
    for k in np.flatnonzero(checked).tolist():
        vetoed[k] = (int(found.left[k]), int(found.right[k])) in bad
    return vetoed


def _with_vetoed(predictions: pa.Table, id_scores: pa.Table, found: IdentifierPairs, vetoed: np.ndarray,
                 keys: pa.Array) -> pa.Table:
    """The model's candidate pairs plus the vetoed identifier pairs (flagged with their identifier)."""
    predictions = predictions.append_column("identifier", pa.nulls(predictions.num_rows, pa.string()))
    if not vetoed.any():
        return predictions
    kind_of = {pair(keys[int(found.left[k])].as_py(), keys[int(found.right[k])].as_py()): found.kinds[int(found.kind[k])]
               for k in np.flatnonzero(vetoed).tolist()}
    seen = set(map(pair, predictions["record_key_l"].to_pylist(), predictions["record_key_r"].to_pylist()))
    both = list(map(pair, id_scores["record_key_l"].to_pylist(), id_scores["record_key_r"].to_pylist()))
    rows = [i for i, p in enumerate(both) if p in kind_of and p not in seen]
    extra = id_scores.take(pa.array(rows, type=pa.int64()))
    extra = extra.append_column("identifier", pa.array([kind_of[both[i]] for i in rows], type=pa.string()))
    # a vetoed pair the model also scored above the review threshold is already a candidate: flag it
    flagged = [kind_of.get(p) for p in map(pair, predictions["record_key_l"].to_pylist(),
                                             predictions["record_key_r"].to_pylist())]
    predictions = predictions.set_column(predictions.column_names.index("identifier"), "identifier",
                                         pa.array(flagged, type=pa.string()))
    return pa.concat_tables([predictions, extra.select(predictions.column_names)])


# -- inputs ------------------------------------------------------------------------------------
def _col(t: ibis.Table, name: str) -> ibis.Value:
    """A text column with empty strings as NULL; a missing column is all NULL."""
    if name not in t.columns:
        return ibis.null().cast("string")
    return t[name].cast("string").nullif("")


def _records(people: ibis.Table, cfg: IdentityConfig) -> ibis.Table:
    """What the resolver keeps in memory per record: keys, identifiers and display values."""
    cols = {UNIQUE_ID: people[UNIQUE_ID], "source_system": _col(people, "_source_system"),
            "record_id": _col(people, "record_id")}
    for c in dict.fromkeys([*DISPLAY, *cfg.deterministic]):
        if c not in cols:
            cols[c] = _col(people, c)
    if "email_role" in people.columns:
        # a shared role mailbox (info@, sales@) is not one person: never an identifier
        cols["_email_key"] = ibis.cases((people.email_role.fill_null(False), ibis.null().cast("string")),
                                        else_=cols["email"])
    return people.select(**cols)


def _columns_with_values(people: ibis.Table, cfg: IdentityConfig, n: int) -> list[str]:
    """Configured compared columns that exist and hold at least two values."""
    present = [c for c in cfg.columns if c in people.columns]
    if not present or n < 2:
        return []
    counts = people.aggregate(**{c: _col(people, c).count() for c in present}).to_pyarrow().to_pylist()[0]
    return [c for c in present if (counts[c] or 0) >= 2]


def _model_input(people: ibis.Table, columns: list[str], cfg: IdentityConfig) -> ibis.Table:
    cols: dict[str, ibis.Value] = {UNIQUE_ID: people[UNIQUE_ID]}
    for c in columns:
        cols[c] = _col(people, c)
    # columns the training rules block on, though not compared (such as email)
    for c in dict.fromkeys(c for rule in cfg.training_blocking for c in rule):
        if c not in cols and c in people.columns:
            cols[c] = _col(people, c)
    if cfg.nicknames and "first_name" in columns:
        first = cols["first_name"].lower()
        cols[GIVEN_NAME] = first.substitute(NICKNAMES, else_=first)
    return people.select(**cols)


class _Clock:
    def __init__(self) -> None:
        self.start = self.mark = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self.mark, 3)
        self.mark = now

    def skip(self, seconds: float) -> None:
        """Seconds already accounted for elsewhere (the model's own phases)."""
        self.mark += seconds

    def total(self) -> float:
        return time.perf_counter() - self.start
