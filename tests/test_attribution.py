"""Attribution models: hand-computed journeys, exact totals, and the documented edge cases."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from ruamel.yaml import YAML
from hypothesis import given, settings
from hypothesis import strategies as st

from marketops.attribution import MODELS, NO_TOUCHPOINT, attribute, build_journeys, compare
from marketops.attribution.credits import largest_remainder
from marketops.errors import NotFound, ValidationFailed

def _load(path):
    """A hand-computed case (ruamel, the YAML reader marketops already depends on)."""
    return YAML(typ="safe").load(path.read_text())


CASES = sorted((Path(__file__).parent / "cases" / "attribution").glob("*.yaml"))
UTC = dt.UTC


def _frames(case: dict) -> tuple[pl.DataFrame, pl.DataFrame]:
    tp = case["touchpoints"]
    touches = pl.DataFrame({
        "person_id": [t["person"] for t in tp], "occurred_at": [t["at"] for t in tp],
        "channel": [t["channel"] for t in tp], "is_direct": [t.get("direct", False) for t in tp],
        "is_lead_created": [t.get("lead", False) for t in tp],
        "is_opportunity_created": [t.get("opportunity", False) for t in tp],
    }, schema_overrides={"occurred_at": pl.String})
    cv = case["conversions"]
    conversions = pl.DataFrame({
        "person_id": [c["person"] for c in cv], "conversion_id": [c["id"] for c in cv],
        "converted_at": [c["at"] for c in cv], "revenue": [c["revenue"] for c in cv],
    })
    return touches, conversions


def _credits(out: pl.DataFrame) -> dict[str, list[str]]:
    return {ch: [str(c), str(r)] for ch, c, r in out.select("channel", "conversions", "revenue").rows()}


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_hand_computed_case(path):
    case = _load(path)
    journeys = build_journeys(*_frames(case), lookback_days=case.get("lookback_days", 90),
                              direct=case.get("direct", "keep"))
    for exp in case["expect"]:
        got = _credits(attribute(journeys, exp["model"], **exp.get("params", {})))
        assert got == exp["credits"], f"{path.name}: {exp['model']} {exp.get('params', '')}"


def test_every_model_has_a_hand_computed_case():
    covered = {e["model"] for p in CASES for e in _load(p)["expect"]}
    assert covered == set(MODELS)


# --- random journeys: totals and determinism -------------------------------------------------

def _random(seed: int, people: int, channels: int, touches: int, convert: float = 0.6):
    rng = np.random.default_rng(seed)
    start = dt.datetime(2024, 1, 1, tzinfo=UTC)
    person = rng.integers(0, people, touches)
    tp = pl.DataFrame({
        "person_id": [f"p{i}" for i in person],
        "occurred_at": [start + dt.timedelta(hours=int(h)) for h in rng.integers(0, 24 * 60, touches)],
        "channel": [f"ch{i:04d}" for i in rng.integers(0, channels, touches)],
        "is_direct": rng.random(touches) < 0.2,
        "is_lead_created": rng.random(touches) < 0.2,
        "is_opportunity_created": rng.random(touches) < 0.1,
    })
    who = [p for p in range(people) if rng.random() < convert]
    cv = pl.DataFrame({
        "person_id": [f"p{i}" for i in who], "conversion_id": [f"c{i}" for i in who],
        "converted_at": [start + dt.timedelta(hours=int(h)) for h in rng.integers(24 * 20, 24 * 70, len(who))],
        "revenue": [f"{c // 100}.{c % 100:02d}" for c in rng.integers(0, 1_000_000, len(who))],
    }, schema_overrides={"converted_at": pl.Datetime("us", "UTC")})
    return tp, cv


def _assert_totals(out: pl.DataFrame, conversions: pl.DataFrame) -> None:
    cents = sum(int(Decimal(str(r)) * 100) for r in conversions["revenue"].to_list())
    assert out["conversions"].sum() == Decimal(conversions.height)
    assert out["revenue"].sum() == Decimal(cents) / 100
    assert (out["conversions_micro"] >= 0).all() and (out["revenue_cents"] >= 0).all()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), people=st.integers(1, 40), channels=st.integers(1, 20),
       touches=st.integers(0, 150), lookback=st.sampled_from([1, 7, 90]),
       direct=st.sampled_from(["keep", "skip_if_other"]))
def test_credits_add_up_exactly_for_any_journeys(seed, people, channels, touches, lookback, direct):
    tp, cv = _random(seed, people, channels, touches)
    journeys = build_journeys(tp, cv, lookback_days=lookback, direct=direct)
    for name in MODELS:
        params = {"order": 2} if name == "markov" and seed % 2 else {}
        _assert_totals(attribute(journeys, name, **params), cv)


def test_same_input_in_any_row_order_gives_the_same_credits():
    tp, cv = _random(7, 60, 8, 300)
    a = compare(build_journeys(tp, cv))
    b = compare(build_journeys(tp.sample(fraction=1, shuffle=True, seed=1),
                               cv.sample(fraction=1, shuffle=True, seed=2)))
    assert a.equals(b)


def test_markov_orders_two_and_three_add_up():
    tp, cv = _random(3, 80, 6, 400)
    journeys = build_journeys(tp, cv)
    for order in (1, 2, 3):
        _assert_totals(attribute(journeys, "markov", order=order), cv)
    with pytest.raises(ValidationFailed, match="order"):
        attribute(journeys, "markov", order=4)


def test_markov_order_does_not_matter_for_single_touch_journeys():
    tp, cv = _random(5, 50, 5, 50)
    tp = tp.unique("person_id", keep="first", maintain_order=True)
    journeys = build_journeys(tp, cv)
    assert attribute(journeys, "markov", order=1).equals(attribute(journeys, "markov", order=3))


# --- bad input ------------------------------------------------------------------------------

def test_negative_revenue_is_refused_with_the_row():
    tp, cv = _random(1, 5, 2, 10)
    cv = cv.with_columns(pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("-5.00"))
                         .otherwise(pl.col("revenue")).alias("revenue"))
    with pytest.raises(ValidationFailed, match="unusable revenue") as err:
        build_journeys(tp, cv)
    first = cv["conversion_id"][0]
    assert err.value.rows[0][0] == 0 and "negative" in err.value.rows[0][2]
    assert f"{first}: negative revenue -5.00" in err.value.message  # the user can find it in their data


def test_zero_and_missing_revenue_credit_conversions_only():
    tp, cv = _random(2, 20, 3, 60, convert=1.0)
    cv = cv.with_columns(revenue=pl.lit(None, pl.String))
    for name in MODELS:
        out = attribute(build_journeys(tp, cv), name)
        assert out["revenue"].sum() == 0
        assert out["conversions"].sum() == cv.height


def test_single_channel_gets_everything_from_every_model():
    tp, cv = _random(4, 30, 1, 90, convert=0.5)
    cv = cv.filter(pl.col("person_id").is_in(tp["person_id"].implode())).with_columns(
        converted_at=pl.lit(dt.datetime(2024, 6, 1, tzinfo=UTC)))  # after every touch
    journeys = build_journeys(tp, cv, lookback_days=365)
    for name in MODELS:
        out = attribute(journeys, name)
        assert out["channel"].to_list() == ["ch0000"], name
        _assert_totals(out, cv)


def test_thousands_of_channels_sample_shapley_and_report_its_error():
    tp, cv = _random(6, 3000, 2000, 9000)
    journeys = build_journeys(tp, cv)
    out = attribute(journeys, "shapley", samples=50)
    _assert_totals(out, cv)
    assert (out["conversions_stderr"] > 0).any()
    _assert_totals(attribute(journeys, "markov"), cv)


def test_sampled_shapley_agrees_with_exact_within_its_error():
    tp, cv = _random(8, 400, 6, 1500, convert=0.4)
    journeys = build_journeys(tp, cv)
    exact = attribute(journeys, "shapley")
    sampled = attribute(journeys, "shapley", exact_limit=0, samples=400, seed=3)
    assert (exact["conversions_stderr"] == 0).all()
    both = exact.join(sampled, on="channel", suffix="_s")
    gap = (both["conversions"].cast(pl.Float64) - both["conversions_s"].cast(pl.Float64)).abs()
    assert (gap <= 5 * both["conversions_stderr_s"] + 1e-6).all()
    assert sampled.equals(attribute(journeys, "shapley", exact_limit=0, samples=400, seed=3))


def test_naive_timestamps_are_utc_and_aware_ones_are_converted():
    tp = pl.DataFrame({"person_id": ["p", "p"], "channel": ["A", "B"],
                       "occurred_at": [dt.datetime(2024, 1, 1, 23), dt.datetime(2024, 1, 2, 1)]})
    conv_at = dt.datetime(2024, 1, 2, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=9)))  # 00:30 UTC
    cv = pl.DataFrame({"person_id": ["p"], "conversion_id": ["c"], "revenue": ["1"],
                       "converted_at": [conv_at]})
    assert attribute(build_journeys(tp, cv), "last_touch")["channel"].to_list() == ["A"]


def test_touch_at_the_conversion_instant_counts_and_one_touch_can_serve_two_conversions():
    t0 = dt.datetime(2024, 1, 1)
    tp = pl.DataFrame({"person_id": ["p", "p"], "channel": ["A", "B"],
                       "occurred_at": [t0, t0 + dt.timedelta(days=2)]})
    cv = pl.DataFrame({"person_id": ["p", "p"], "conversion_id": ["c1", "c2"], "revenue": ["1", "2"],
                       "converted_at": [t0, t0 + dt.timedelta(days=3)]})
    got = _credits(attribute(build_journeys(tp, cv), "first_touch"))
    assert got == {"A": ["2.000000", "3.00"]}
    assert NO_TOUCHPOINT not in got


def test_unknown_model_and_bad_parameters_say_what_is_wrong():
    journeys = build_journeys(*_random(1, 5, 2, 10))
    with pytest.raises(NotFound, match="did you mean 'markov'"):
        attribute(journeys, "markof")
    with pytest.raises(ValidationFailed):
        attribute(journeys, "time_decay", half_life_days=0)
    with pytest.raises(ValidationFailed):
        attribute(journeys, "position_based", first=0.7, last=0.5)
    with pytest.raises(ValidationFailed, match="direct"):
        build_journeys(*_random(1, 5, 2, 10), direct="drop")


def test_largest_remainder_gives_leftover_units_to_largest_remainders_then_earlier_rows():
    got = largest_remainder(np.array([1.0, 2, 2, 1, 1]), np.array([0, 0, 0, 1, 1]), np.array([10, 3]))
    assert got.tolist() == [2, 4, 4, 2, 1]


def _dense_markov_shares(journeys) -> dict[str, float]:
    """Order-1 removal effects by a plain dense solve, independent of the model's code."""
    t = journeys.touches
    conv = dict(journeys.journeys.select("j", "converted").rows())
    paths: dict[int, list[str]] = {}
    for j, ch in t.sort("j", "pos").select("j", "ch").rows():
        paths.setdefault(j, []).append(journeys.channels[ch])
    names = ["(start)", "(conv)", "(null)", *journeys.channels]
    idx = {n: i for i, n in enumerate(names)}
    counts = np.zeros((len(names), len(names)))
    for j, path in paths.items():
        if path == [NO_TOUCHPOINT]:  # credited to the bucket directly, not modelled
            continue
        seq = ["(start)", *path, "(conv)" if conv[j] else "(null)"]
        for a, b in itertools.pairwise(seq):
            counts[idx[a], idx[b]] += 1

    def p_conv(removed: str | None) -> float:
        c = counts.copy()
        if removed is not None:  # the removed channel's state leads nowhere but null
            c[:, idx["(null)"]] += c[:, idx[removed]]
            c[:, idx[removed]] = 0
        rows = c.sum(axis=1, keepdims=True)
        P = np.divide(c, rows, out=np.zeros_like(c), where=rows > 0)
        transient = [0, *range(3, len(names))]
        Q = P[np.ix_(transient, transient)]
        x = np.linalg.solve(np.eye(len(transient)) - Q, P[transient, 1])
        return float(x[0])

    base = p_conv(None)
    effects = {ch: 1 - p_conv(ch) / base for ch in journeys.channels if ch != NO_TOUCHPOINT}
    total = sum(effects.values())
    return {ch: e / total for ch, e in effects.items()}


def test_markov_matches_a_dense_absorbing_chain_solve():
    tp, cv = _random(11, 120, 5, 600, convert=0.5)
    journeys = build_journeys(tp, cv)
    expected = _dense_markov_shares(journeys)
    out = attribute(journeys, "markov").filter(pl.col("channel") != NO_TOUCHPOINT)
    assert out.height < len(journeys.channels)  # the case has conversions without a touch
    got = dict(zip(out["channel"], out["conversions_micro"] / out["conversions_micro"].sum(), strict=True))
    assert got.keys() == {c for c, s in expected.items() if s > 0}
    for ch, share in got.items():
        assert share == pytest.approx(expected[ch], abs=1e-5)


def test_exact_shapley_matches_enumerating_every_channel_order():
    import itertools

    tp, cv = _random(12, 150, 4, 500, convert=0.5)
    journeys = build_journeys(tp, cv)
    sets = {}
    for j, ch in journeys.touches.select("j", "ch").rows():
        sets.setdefault(j, set()).add(journeys.channels[ch])
    conv = dict(journeys.journeys.select("j", "converted").rows())
    rows = [(frozenset(s), conv[j]) for j, s in sets.items() if s != {NO_TOUCHPOINT}]
    players = sorted({c for s, _ in rows for c in s})

    def v(coalition: set) -> float:
        inside = [c for s, c in rows if s <= coalition]
        return sum(inside) / len(inside) if inside else 0.0

    phi = dict.fromkeys(players, 0.0)
    orders = list(itertools.permutations(players))
    for order in orders:
        seen: set = set()
        for p in order:
            phi[p] += (v(seen | {p}) - v(seen)) / len(orders)
            seen.add(p)
    positive = {p: max(x, 0) for p, x in phi.items()}
    out = attribute(journeys, "shapley").filter(pl.col("channel") != NO_TOUCHPOINT)
    got = dict(zip(out["channel"], out["conversions_micro"] / out["conversions_micro"].sum(), strict=True))
    for p, x in positive.items():
        assert got.get(p, 0.0) == pytest.approx(x / sum(positive.values()), abs=1e-5)


@pytest.mark.parametrize("revenue", [
    ["12.50", "3"], [12.5, 3.0], pl.Series(["12.50", "3"]).cast(pl.Decimal(10, 2)),
], ids=["string", "float", "decimal"])
def test_revenue_as_string_float_or_decimal_gives_the_same_cents(revenue):
    tp = pl.DataFrame({"person_id": ["p", "q"], "channel": ["A", "B"],
                       "occurred_at": [dt.datetime(2024, 1, 1)] * 2})
    cv = pl.DataFrame({"person_id": ["p", "q"], "conversion_id": ["c1", "c2"],
                       "converted_at": [dt.datetime(2024, 1, 2)] * 2}).with_columns(
                           revenue=pl.Series(revenue))
    assert _credits(attribute(build_journeys(tp, cv), "linear")) == {
        "A": ["1.000000", "12.50"], "B": ["1.000000", "3.00"]}
    with pytest.raises(ValidationFailed, match="unusable revenue"):
        build_journeys(tp, cv.with_columns(revenue=pl.Series(revenue).reverse()).with_columns(
            revenue=pl.Series(["-1", "2"]).cast(cv.schema["revenue"])))
