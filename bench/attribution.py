"""Attribution models on synthetic journeys: wall time of build_journeys and of each model.

    .venv/bin/python bench/attribution.py --journeys 100000 1000000

Synthetic for now (12 channels, 1-9 touchpoints per person, mean 5, 40% convert); the issue's
run on the sample generator and the ChannelAttribution peer come when attribution is wired into
the pipeline.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np
import polars as pl

from marketops.attribution import MODELS, attribute, build_journeys

CHANNELS = ["Direct", "Organic Search", "Paid Search", "Paid Social", "Organic Social", "Email",
            "Referral", "Display", "Affiliates", "Video", "Events", "Partners"]


def synthetic(n: int, seed: int = 7) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    per = rng.integers(1, 10, n)
    person = np.repeat(np.arange(n), per)
    m = len(person)
    start = np.datetime64("2024-01-01T00:00:00", "us")
    at = start + rng.integers(0, 60 * 86_400, m).astype("timedelta64[s]")
    ch = rng.choice(len(CHANNELS), m, p=np.r_[0.2, 0.15, 0.15, 0.1, 0.05, 0.1, 0.05, 0.05, 0.05, 0.04, 0.03, 0.03])
    tp = pl.DataFrame({
        "person_id": person, "occurred_at": pl.Series(at).dt.replace_time_zone("UTC"),
        "channel": pl.Series(np.array(CHANNELS)[ch]), "is_direct": ch == 0,
        "is_lead_created": rng.random(m) < 0.1, "is_opportunity_created": rng.random(m) < 0.05,
    })
    conv = np.flatnonzero(rng.random(n) < 0.4)
    cv = pl.DataFrame({
        "person_id": conv, "conversion_id": conv,
        "converted_at": pl.Series(start + np.timedelta64(61, "D")
                                  + rng.integers(0, 86_400, len(conv)).astype("timedelta64[s]")
                                  ).dt.replace_time_zone("UTC"),
        "revenue": pl.Series(rng.integers(0, 500_000, len(conv))).cast(pl.Decimal(18, 2)) / 100,
    })
    return tp, cv


def run(n: int) -> list[tuple[str, float]]:
    tp, cv = synthetic(n)
    out = []
    t = time.perf_counter()
    journeys = build_journeys(tp, cv, lookback_days=90)
    out.append(("build_journeys", time.perf_counter() - t))
    for name in MODELS:
        t = time.perf_counter()
        attribute(journeys, name)
        out.append((name, time.perf_counter() - t))
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--journeys", type=int, nargs="+", default=[100_000])
    args = p.parse_args()
    print(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, polars {pl.__version__}")
    for n in args.journeys:
        rows = run(n)
        models = sum(s for name, s in rows if name != "build_journeys")
        print(f"\n{n:,} journeys")
        for name, s in rows:
            print(f"  {name:<16} {s:8.2f} s")
        print(f"  {'all nine models':<16} {models:8.2f} s")


if __name__ == "__main__":
    main()
