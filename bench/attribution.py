"""Attribution benchmark: our nine models against the ChannelAttribution package, same paths, same run.

Input: the sample generator's journey simulation (``marketops.sample.journeys.simulate``, the
same people and journeys ``generate`` writes out) at N people, one journey per person, turned
into the frames ``build_journeys`` takes: touchpoints (person_id, occurred_at, channel = the GA4
channel group of the generator's channel, is_direct) and conversions (person_id, conversion_id,
converted_at, revenue = deal amount). Cached per size in bench/.data/. We skip the export files
and the pipeline: ingesting 1M contacts' exports costs minutes and measures ingest, not attribution.

Both sides see the same paths: ``build_journeys`` (90-day lookback) runs once, untimed for the
models, and its journeys become ChannelAttribution's input (one row per distinct path
"A > B > C" with total_conversions and total_null). Timed: each of our nine models on the
Journeys, ChannelAttribution's heuristic_models (first, last, linear in one call) and
markov_model (order 1). Compared: each channel's share of conversions, ours minus theirs, in
percentage points; the note names the largest absolute difference.

    .venv/bin/python bench/attribution.py --journeys 100000 1000000
"""

from __future__ import annotations

import argparse
import contextlib
import io
import time
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
from common import DATA, _generator_version

if TYPE_CHECKING:
    import pandas as pd

PEER_MODELS = {"first_touch": "first_touch", "last_touch": "last_touch", "linear": "linear_touch",
               "markov": "total_conversions"}


def journey_frames(n: int, seed: int = 7, months: int = 12) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(touchpoints, conversions) of ``n`` simulated people, generated once and cached."""
    out = DATA / f"attribution_{n}_{months}_{seed}_{_generator_version()}"
    if not (out / ".done").exists():
        out.mkdir(parents=True, exist_ok=True)
        tp, cv = _simulate(n, seed, months)
        tp.write_parquet(out / "touchpoints.parquet")
        cv.write_parquet(out / "conversions.parquet")
        (out / ".done").write_text("")
    return pl.read_parquet(out / "touchpoints.parquet"), pl.read_parquet(out / "conversions.parquet")


def _simulate(n: int, seed: int, months: int, chunk: int = 250_000) -> tuple[pl.DataFrame, pl.DataFrame]:
    from marketops.quality.channels import explain
    from marketops.sample import world
    from marketops.sample.journeys import mailchimp_sends, simulate
    from marketops.sample.people import make_people
    from marketops.sample.world import period_days

    groups = np.array([explain(c.sources[0], c.mediums[0]).channel for c in world.CHANNELS])
    days = period_days(months)
    sends = mailchimp_sends(days)
    rng = np.random.default_rng(seed)
    tps, cvs = [], []
    for start in range(0, n, chunk):
        size = min(chunk, n - start)
        people = make_people(rng, start=start, n=size, n_companies=max(20, n // 8))
        j = simulate(rng, people, days=days, sends=sends)
        pid = j.touch_person + start
        tps.append(pl.DataFrame({
            "person_id": pid, "occurred_at": pl.Series(j.touch_time * 1_000_000).cast(pl.Datetime("us", "UTC")),
            "channel": groups[j.touch_channel], "is_direct": groups[j.touch_channel] == "Direct"}))
        conv = np.flatnonzero(j.converted)
        cvs.append(pl.DataFrame({
            "person_id": conv + start, "conversion_id": conv + start,
            "converted_at": pl.Series(j.converted_at[conv] * 1_000_000).cast(pl.Datetime("us", "UTC")),
            "revenue": pl.Series(np.rint(j.deal_amount[conv] * 100).astype(np.int64)).cast(pl.Decimal(18, 2)) / 100}))
    return pl.concat(tps), pl.concat(cvs)


def peer_paths(journeys) -> pd.DataFrame:
    """ChannelAttribution's input: one row per distinct path with its conversions and nulls."""
    names = journeys.channels
    paths = journeys.touches.select("j", "pos", pl.col("ch").replace_strict(
        list(range(len(names))), names, return_dtype=pl.String).alias("name"))
    paths = (paths.sort("j", "pos").group_by("j", maintain_order=True).agg(pl.col("name").str.join(" > ").alias("path"))
             .join(journeys.journeys.select("j", "converted"), on="j")
             .group_by("path").agg(total_conversions=pl.col("converted").sum().cast(pl.Int64),
                                   total_null=(~pl.col("converted")).sum().cast(pl.Int64))
             .sort("path"))
    return paths.to_pandas()


def run_peer(paths) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """(seconds per model, channel -> share per model); heuristic time is split evenly."""
    quiet = io.StringIO()
    seconds, shares = {}, {}
    with contextlib.redirect_stdout(quiet):  # the package prints an advert on import and progress on runs
        import ChannelAttribution as ca

        t = time.perf_counter()
        h = ca.heuristic_models(paths, "path", "total_conversions", sep=">")
        th = time.perf_counter() - t
        t = time.perf_counter()
        m = ca.markov_model(paths, "path", "total_conversions", var_null="total_null", order=1, sep=">")
        tm = time.perf_counter() - t
    for ours, col in PEER_MODELS.items():
        frame = m if ours == "markov" else h
        total = float(frame[col].sum())
        shares[ours] = {str(c).strip(): float(v) / total for c, v in zip(frame["channel_name"], frame[col])}
        seconds[ours] = tm if ours == "markov" else th / 3
    return seconds, shares


def run(sizes: list[int]) -> list[dict]:
    from marketops.attribution import MODELS, attribute, build_journeys

    rows = []
    for n in sizes:
        tp, cv = journey_frames(n)
        t = time.perf_counter()
        journeys = build_journeys(tp, cv, lookback_days=90)
        build_s = time.perf_counter() - t
        ours_s, ours_share = {}, {}
        for name in MODELS:
            t = time.perf_counter()
            out = attribute(journeys, name)
            ours_s[name] = time.perf_counter() - t
            ours_share[name] = dict(zip(out["channel"].to_list(), out["share"].to_list()))
        try:
            t = time.perf_counter()
            paths = peer_paths(journeys)
            paths_s = time.perf_counter() - t
            peer_s, peer_share = run_peer(paths)
            peer_err = None
        except ImportError as e:
            peer_s, peer_share, peer_err = {}, {}, f"ChannelAttribution not installed ({e})"
        size = f"{n:,} journeys"
        touches = journeys.touches.height
        note_all = (f"build_journeys {build_s:.2f} s; {touches / journeys.journeys.height:.1f} touches/journey, "
                    f"{journeys.conversions:,} conversions")
        if peer_share:
            note_all += f"; {len(paths):,} distinct paths built in {paths_s:.2f} s"
        for name in MODELS:
            row = {"bench": f"attribution {name}", "size": size, "rows": touches,
                   "seconds": round(ours_s[name], 2), "rows_per_s": int(touches / ours_s[name])}
            if name in peer_s:
                a, b = ours_share[name], peer_share[name]
                diff = {c: 100 * (a.get(c, 0.0) - b.get(c, 0.0)) for c in set(a) | set(b)}
                worst = max(diff, key=lambda c: (abs(diff[c]), c))
                row.update(peer="ChannelAttribution " + ("markov order 1" if name == "markov" else PEER_MODELS[name]),
                           peer_seconds=round(peer_s[name], 2), ratio=round(ours_s[name] / peer_s[name], 2),
                           note=f"largest share difference {diff[worst]:+.3f} pp ({worst})")
            elif peer_err and name in PEER_MODELS:
                row["note"] = peer_err
            rows.append(row)
        rows.append({"bench": "attribution all nine", "size": size, "rows": touches,
                     "seconds": round(sum(ours_s.values()), 2),
                     "rows_per_s": int(touches / sum(ours_s.values())), "note": note_all})
    return rows


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--journeys", type=int, nargs="+", default=[100_000])
    args = p.parse_args()
    from run import print_results

    print_results(run(args.journeys))


if __name__ == "__main__":
    main()
