"""Metrics benchmark: a month x channel query through ``query_metrics`` against DuckDB scanning the raw table.

Input: a DuckDB workspace whose published ``touchpoints`` table holds N rows drawn from the sample
generator's journey simulation (``marketops.sample.journeys.simulate`` over ``make_people``, the
simulation ``generate`` runs: its channels, their shares, its timing over 12 months, the form fills
that identify and convert people), in the canonical columns the pipeline publishes and the metric
reads: occurred_at, type, source, medium, campaign, country, channel_group, person_id, record_key.
Source, medium and campaign are the UTM spellings the generator types, cleaned by the pipeline's own
normalisers (``utm_source`` with its aliases, ``utm_value``); untagged visits take source and medium
from their referrer (``referrer_origin``), and ``channel_group`` comes from the channel rules
(``quality.channels.explain``) on the clean values. person_id is set on the touches of identified
people only. The table is written with ``Engine.write`` and published with ``Engine.publish`` as a
pipeline run does, so ``query_metrics(ws.engine, ...)`` reads it exactly as in production. We skip the
export files and the pipeline: 10M touchpoints through it would take many minutes and measure ingest.
Built once per size and cached in bench/.data/.

Timed: ours, ``query_metrics(ws.engine, ["touchpoints"], by=["channel"], grain="month")`` (catalog
loading, Ibis, DuckDB, the Python that shapes the answer: all of it), and ``["touchpoints",
"reached_people"]`` with ``compare=["previous"]``. Peer: the SQL a DuckDB user would write on the same
file (``date_trunc('month', occurred_at)``, ``channel_group``, ``count(*)`` ... ``GROUP BY ALL``; for the
second row with ``count(DISTINCT person_id)`` and a self-join on the month before). Warm times: both
sides in one process on the same database, a warm-up each, then ``--repeats`` rounds taking turns;
medians. Cold times (in the note), answers and peak memory: each side alone in a fresh process, its
first query after opening the database. Both answers are compared cell by cell; a difference stops
the bench.

    .venv/bin/python bench/metrics.py --touchpoints 1000000 10000000
"""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from common import DATA, _generator_version, in_subprocess

MONTHS = 12
SEED = 7
#: Rows a simulated person has on average: 1 + Poisson(6) touches, a form fill for the 85 % who
#: identify, another for the 16 % who convert.
TOUCHES_PER_PERSON = 8.0

QUERIES = {
    "touchpoints by channel x month": {"names": ["touchpoints"], "compare": []},
    "touchpoints + reached_people, vs previous": {"names": ["touchpoints", "reached_people"],
                                                  "compare": ["previous"]},
}

PEER_SQL = {
    "touchpoints by channel x month": """
        SELECT date_trunc('month', occurred_at)::DATE AS period, channel_group AS channel, count(*) AS touchpoints
        FROM touchpoints GROUP BY ALL""",
    # the same answer as query_metrics gives: a channel present last month but not now still shows
    # (with 0), and a month before the table's first row compares with nothing (NULL), not with 0
    "touchpoints + reached_people, vs previous": """
        WITH m AS (
            SELECT date_trunc('month', occurred_at)::DATE AS period, channel_group AS channel,
                   count(*) AS touchpoints, count(DISTINCT person_id) AS reached_people
            FROM touchpoints GROUP BY ALL),
        b AS (SELECT min(period) AS first, max(period) AS last FROM m),
        k AS (SELECT period, channel FROM m
              UNION SELECT (period + INTERVAL 1 MONTH)::DATE, channel FROM m, b WHERE period + INTERVAL 1 MONTH <= b.last)
        SELECT k.period, k.channel,
               coalesce(c.touchpoints, 0) AS touchpoints,
               CASE WHEN k.period > b.first THEN coalesce(p.touchpoints, 0) END AS touchpoints_prev,
               coalesce(c.reached_people, 0) AS reached_people,
               CASE WHEN k.period > b.first THEN coalesce(p.reached_people, 0) END AS reached_people_prev
        FROM k CROSS JOIN b
        LEFT JOIN m AS c ON c.period = k.period AND c.channel IS NOT DISTINCT FROM k.channel
        LEFT JOIN m AS p ON p.period = k.period - INTERVAL 1 MONTH AND p.channel IS NOT DISTINCT FROM k.channel""",
}

# Cold: each side alone in a fresh process, its first query after opening the database; its
# answer and peak memory come from there too.
OURS = """
import time, datetime as dt
from marketops.workspace import Workspace
from marketops.metrics import query_metrics
ws = Workspace.open({root!r}, read_only=True)
ws.engine.table("touchpoints")  # open the database before timing
t = time.perf_counter()
out = query_metrics(ws.engine, {names!r}, by=["channel"], grain="month", compare={compare!r})
cold = time.perf_counter() - t
cols = [c for c in out.column_names if not c.endswith("_change")]  # the peer has no ratios to compare
rows = [[v.isoformat() if isinstance(v, dt.date) else v for v in r] for r in zip(*(out[c].to_pylist() for c in cols))]
_r = {{"cold": cold, "columns": cols, "rows": rows}}
ws.close()
"""

PEER = """
import time
from marketops.engine.duckdb import quiet_duckdb
con = quiet_duckdb({path!r}, read_only=True)
t = time.perf_counter()
out = con.execute({sql!r}).fetchall()
cold = time.perf_counter() - t
cols = [d[0] for d in con.execute({sql!r} + " LIMIT 0").description]
_r = {{"cold": cold, "columns": cols, "rows": [[r[0].isoformat(), *r[1:]] for r in out]}}
con.close()
"""

# Warm: both sides in one process on the same database, after a warm-up each, taking turns (and
# turns about who goes first) so that whatever else the machine does weighs on both alike.
PAIRED = """
import time, statistics
from marketops.workspace import Workspace
from marketops.metrics import query_metrics
ws = Workspace.open({root!r}, read_only=True)
con = ws.engine.scratch()
sides = {{"ours": lambda: query_metrics(ws.engine, {names!r}, by=["channel"], grain="month", compare={compare!r}),
          "peer": lambda: con.execute({sql!r}).fetchall()}}
times = {{"ours": [], "peer": []}}
for f in sides.values():
    f()
for i in range({repeats}):
    for side in (("ours", "peer") if i % 2 == 0 else ("peer", "ours")):
        t = time.perf_counter(); sides[side](); times[side].append(time.perf_counter() - t)
_r = {{"ours": statistics.median(times["ours"]), "peer": statistics.median(times["peer"]), "times": times}}
ws.close()
"""


# -- data ----------------------------------------------------------------------------------------

def touchpoints_workspace(n: int, seed: int = SEED, months: int = MONTHS) -> str:
    """A DuckDB workspace whose published ``touchpoints`` table has ``n`` simulated rows; built once, cached."""
    root = DATA / f"metrics_ws_{n}_{months}_{seed}_{_generator_version()}"
    if not (root / ".done").exists():
        from marketops.workspace import Workspace

        shutil.rmtree(root, ignore_errors=True)
        table = _simulate(n, seed, months)
        ws = Workspace.init(root)
        try:
            ws.engine.write("touchpoints__bench", table)
            ws.engine.publish({"touchpoints": "touchpoints__bench"}, "bench")
        finally:
            ws.close()
        (root / ".done").write_text(str(table.num_rows))
    return str(root)


def _clean_lookup(values: list[str | None], kind: str) -> dict[str | None, str | None]:
    from marketops.quality.normalise import normalise_values

    t = normalise_values([v for v in values if v is not None], kind)
    return {None: None, **dict(zip(t["raw_text"].to_pylist(), t["value"].to_pylist()))}


def _simulate(n: int, seed: int, months: int, chunk: int = 200_000) -> pa.Table:
    """``n`` touchpoints of simulated people, in the canonical columns the metrics read."""
    from marketops.quality.channels import explain
    from marketops.quality.referrer import HOST_PATTERN, referrer_origin
    from marketops.sample import world
    from marketops.sample.events import send_slug
    from marketops.sample.journeys import mailchimp_sends, simulate
    from marketops.sample.people import make_people
    from marketops.sample.world import period_days

    days = period_days(months)
    sends = mailchimp_sends(days)
    chans = world.CHANNELS
    # Cleaned values of every spelling the generator types, and the campaign slugs it tags links with
    src_clean = _clean_lookup(sorted({s for c in chans for s in c.sources}), "utm_source")
    med_clean = _clean_lookup(sorted({m for c in chans for m in c.mediums}), "utm_value")
    slugs = [u.slug for u in world.AD_UNITS] + [send_slug(i, s) for i, s in enumerate(sends.tolist())]
    camp_clean = _clean_lookup(slugs, "utm_value")
    campaigns = np.array([None, *[camp_clean[s] for s in slugs]], dtype=object)  # code 0 = untagged
    max_var = max(max(len(c.sources), len(c.mediums)) for c in chans)
    countries = np.array([c[0] for c in world.COUNTRIES], dtype=object)
    n_people = int(n / TOUCHES_PER_PERSON * 1.01) + 100
    rng = np.random.default_rng(seed)
    parts, total, start = [], 0, 0
    group_of: dict[int, tuple] = {}
    while total < n:
        size = max(1000, min(chunk, n_people - start))
        people = make_people(rng, start=start, n=size, n_companies=max(20, n_people // 8))
        j = simulate(rng, people, days=days, sends=sends)
        t, channel = j.touch_time, j.touch_channel
        k = len(t)
        src_var = np.zeros(k, dtype=np.int64)
        med_var = np.zeros(k, dtype=np.int64)
        for c_i, ch in enumerate(chans):
            mask = channel == c_i
            src_var[mask] = rng.integers(0, len(ch.sources), int(mask.sum()))
            med_var[mask] = rng.integers(0, len(ch.mediums), int(mask.sum()))
        camp = np.where(j.touch_unit >= 0, j.touch_unit + 1,
                        np.where(j.touch_send >= 0, j.touch_send + 1 + len(world.AD_UNITS), 0))
        # the form fills that identify and convert people: untagged visits, no referrer
        ident = np.flatnonzero(j.identified_at >= 0)
        conv = np.flatnonzero(j.converted)
        f_person = np.concatenate([ident, conv])
        person = np.concatenate([j.touch_person, f_person])
        when = np.concatenate([t, j.identified_at[ident], j.converted_at[conv]])
        # one code per distinct (channel, spellings, campaign); the form fills get channel code len(chans)
        code = np.concatenate([((channel * max_var + src_var) * max_var + med_var) * len(campaigns) + camp,
                               np.full(len(f_person), len(chans) * max_var * max_var * len(campaigns))])
        uniq, inv = np.unique(code, return_inverse=True)
        for u in uniq.tolist():
            if u not in group_of:
                group_of[u] = _touch_values(u, chans, max_var, campaigns, src_clean, med_clean,
                                            explain, referrer_origin, re.compile(HOST_PATTERN))
        vals = [group_of[u] for u in uniq.tolist()]
        identified = j.identified_at[person] >= 0
        pid = pa.array(people.pid[person])
        part = {
            "occurred_at": pa.array(when * 1_000_000, pa.int64()).cast(pa.timestamp("us")),
            "type": _take([v[0] for v in vals], inv),
            "source": _take([v[1] for v in vals], inv),
            "medium": _take([v[2] for v in vals], inv),
            "campaign": _take([v[3] for v in vals], inv),
            "channel_group": _take([v[4] for v in vals], inv),
            "country": _take(countries, people.country[person]),
            "person_id": pc.if_else(pa.array(identified), pc.binary_join_element_wise(
                "P", pc.cast(pid, pa.string()), ""), pa.scalar(None, pa.string())),
        }
        parts.append(pa.table(part))
        total += len(person)
        start += size
    # the few rows over n go at random, so that no person or month loses more than another
    keep = np.sort(rng.choice(total, n, replace=False))
    table = pa.concat_tables(parts).combine_chunks().take(pa.array(keep))
    keys = pc.binary_join_element_wise("web_events:", pc.cast(pa.array(np.arange(n)), pa.string()), "")
    return table.append_column("record_key", keys)


def _take(values, index: np.ndarray) -> pa.Array:
    return pa.array(list(values), pa.string()).take(pa.array(index))


def _touch_values(code: int, chans, max_var: int, campaigns: np.ndarray, src_clean: dict, med_clean: dict,
                  explain, referrer_origin, host_re) -> tuple:
    """(type, source, medium, campaign, channel_group) of one distinct touch code, as the pipeline cleans it."""
    rest, camp = divmod(code, len(campaigns))
    rest, mv = divmod(rest, max_var)
    c_i, sv = divmod(rest, max_var)
    if c_i == len(chans):
        ttype, source, medium, campaign, clicks = "form_fill", None, None, None, []
    else:
        ch = chans[c_i]
        ttype, campaign = ch.touch_type, campaigns[camp]
        clicks = [ch.click_id] if ch.click_id else []
        if camp:  # tagged link: the typed utm values, cleaned
            source, medium = src_clean[ch.sources[sv]], med_clean[ch.mediums[mv]]
        else:  # untagged visit: GA4 reads source and medium from the referrer
            host = host_re.match(ch.referrer)
            source, medium = referrer_origin(host.group(1)) if host else (None, None)
    group = explain(source, medium, campaign, click_ids=clicks).channel
    return ttype, source, medium, campaign, group


# -- bench ---------------------------------------------------------------------------------------

def _check(name: str, ours: dict, peer: dict) -> None:
    """Fail loudly unless both sides give the same numbers per month x channel, column by column."""
    if sorted(ours["columns"]) != sorted(peer["columns"]):
        raise AssertionError(f"{name}: columns differ: ours {ours['columns']}, peer {peer['columns']}")

    def index(side: dict) -> dict:
        rows = (dict(zip(side["columns"], r)) for r in side["rows"])
        return {(r["period"], r["channel"]): tuple(r[c] for c in sorted(ours["columns"])) for r in rows}

    a, b = index(ours), index(peer)
    if len(a) != len(ours["rows"]) or len(b) != len(peer["rows"]):
        raise AssertionError(f"{name}: a month x channel shows twice ({len(ours['rows'])} and {len(peer['rows'])} rows)")
    if a != b:
        only = sorted(set(a) ^ set(b), key=str)[:5]
        diff = [(k, a.get(k), b.get(k)) for k in sorted(set(a) & set(b), key=str) if a[k] != b[k]][:5]
        raise AssertionError(f"{name}: query_metrics and the DuckDB query disagree "
                             f"({len(a)} vs {len(b)} rows); keys on one side only: {only}; differing: {diff}")


def run(sizes: list[int], repeats: int = 7) -> list[dict]:
    rows = []
    for n in sizes:
        root = touchpoints_workspace(n)
        path = str(Path(root) / ".marketops" / "warehouse.duckdb")
        for name, q in QUERIES.items():
            ours = in_subprocess(OURS.format(root=root, names=q["names"], compare=q["compare"]))
            peer = in_subprocess(PEER.format(path=path, sql=PEER_SQL[name]))
            _check(name, ours, peer)
            warm = in_subprocess(PAIRED.format(root=root, names=q["names"], compare=q["compare"],
                                               sql=PEER_SQL[name], repeats=repeats))
            rows.append({
                "bench": f"metrics {name}", "size": f"{n:,} touchpoints", "rows": n,
                "seconds": round(warm["ours"], 3), "rows_per_s": int(n / warm["ours"]),
                "peak_mb": round(ours["peak_mb"]), "peer": "duckdb SQL on the same file",
                "peer_seconds": round(warm["peer"], 3), "ratio": round(warm["ours"] / warm["peer"], 2),
                "note": f"median of {repeats} taking turns; cold {ours['cold']:.3f} s vs {peer['cold']:.3f} s; "
                        f"peer peak {round(peer['peak_mb'])} MB; {len(ours['rows'])} month x channel rows, "
                        "equal on both sides",
            })
    return rows


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--touchpoints", type=int, nargs="+", default=[1_000_000])
    p.add_argument("--repeats", type=int, default=7)
    args = p.parse_args()
    from run import print_results

    print_results(run(args.touchpoints, args.repeats))


if __name__ == "__main__":
    main()
