"""Journeys: the touchpoints that led to each conversion, ready for an attribution model.

``build_journeys`` joins touchpoints to conversions by ``person_id`` and keeps, for each
conversion, the touchpoints in ``(converted_at - lookback_days, converted_at]``. The rules:

- Timestamps: naive values are read as UTC; aware values (or strings with an offset, several
  time zones in one column are fine) are converted to UTC before any comparison.
- Touchpoints after the conversion never count; a touchpoint at the same instant does.
- Each conversion is judged on its own window, so one touchpoint can help several conversions
  of the same person.
- ``direct="keep"`` keeps direct visits as any other touch; ``direct="skip_if_other"`` drops
  them from a journey that has at least one non-direct touch (a journey of direct visits only
  keeps them, as GA does).
- A conversion with no touchpoint in its window gets one synthetic touch on the channel
  ``(no touchpoint)``, so every model credits it there and totals always add up.
- Revenue (decimal, integer, float or decimal string) is held in integer cents, sub-cent
  amounts rounded to the cent; NULL is 0; negative revenue raises
  ValidationFailed (refunds belong on the original conversion, not as a credit to take away).
- People with touchpoints but no conversion become non-converting journeys (their touches in
  the lookback window before their latest touch). Only the data-driven models (Markov, Shapley)
  use them.

Example:
    >>> import datetime as dt, polars as pl
    >>> t = pl.DataFrame({"person_id": ["p1", "p1"], "channel": ["Email", "Paid Search"],
    ...     "occurred_at": [dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 5)]})
    >>> c = pl.DataFrame({"person_id": ["p1"], "conversion_id": ["c1"], "revenue": ["10.00"],
    ...     "converted_at": [dt.datetime(2024, 1, 6)]})
    >>> j = build_journeys(t, c, lookback_days=30)
    >>> j.channels, j.conversions, j.revenue_cents
    (['Email', 'Paid Search'], 1, 1000)
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

import numpy as np
import polars as pl

from marketops.errors import ValidationFailed

NO_TOUCHPOINT = "(no touchpoint)"
DirectRule = Literal["keep", "skip_if_other"]

_TOUCH_OPTIONAL = {"is_direct": False, "is_lead_created": False, "is_opportunity_created": False}


@dataclass(frozen=True)
class Journeys:
    """Touches of every journey, flattened and sorted by (journey, position).

    ``touches`` columns: j (journey index), pos (0-based), n (touches in the journey),
    ch (channel code into ``channels``), age_days (days before the conversion, or before the
    journey's last touch when it did not convert), is_direct, is_lead_created,
    is_opportunity_created. ``journeys`` columns: j, conversion_id (NULL when it did not
    convert), converted, revenue_cents, n.
    """

    touches: pl.DataFrame
    journeys: pl.DataFrame
    channels: list[str]
    #: Conversions left out because no person could be found for them (no email or id linked
    #: them to anyone): reported so that nothing disappears silently.
    without_person: int = 0

    @property
    def conversions(self) -> int:
        return int(self.journeys["converted"].sum())

    @property
    def revenue_cents(self) -> int:
        return int(self.journeys["revenue_cents"].sum())

    def converting(self) -> pl.DataFrame:
        """Touches of converting journeys only (what the rule-based models credit)."""
        keep = self.journeys.filter(pl.col("converted")).select("j", "revenue_cents")
        return self.touches.join(keep, on="j", how="inner").sort("j", "pos")


def _utc(df: pl.DataFrame, col: str) -> pl.Expr:
    dtype = df.schema[col]
    if dtype == pl.Null:  # an empty or all-NULL column
        return pl.col(col).cast(pl.Datetime("us", "UTC"))
    if dtype == pl.String:
        return pl.col(col).str.to_datetime(time_zone="UTC", time_unit="us")
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            return pl.col(col).dt.replace_time_zone("UTC").dt.cast_time_unit("us")
        return pl.col(col).dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    raise ValidationFailed(f"column '{col}' must hold timestamps, not {dtype}")


def _cents(revenue: pl.Series) -> pl.Series:
    """Revenue in integer cents; exact for decimals, integers and decimal strings."""
    if revenue.dtype.is_integer() or isinstance(revenue.dtype, pl.Decimal):
        cents = (revenue.cast(pl.Decimal(38, 2)) * 100).cast(pl.Int64).fill_null(0)
        neg = np.flatnonzero((cents < 0).to_numpy())
        if len(neg):
            raise ValidationFailed(f"{len(neg)} conversion(s) have unusable revenue", rows=[
                (int(i), "revenue", f"negative revenue {revenue[int(i)]} cannot be attributed")
                for i in neg])
        return cents.alias("revenue_cents")
    return pl.Series("revenue_cents", _cents_slow(revenue.to_list()), dtype=pl.Int64)


def _cents_slow(values: list) -> list[int]:
    out, bad = [], []
    for i, v in enumerate(values):
        if v is None:
            out.append(0)
            continue
        try:
            d = Decimal(str(v))
        except InvalidOperation:
            bad.append((i, "revenue", f"'{v}' is not a number"))
            out.append(0)
            continue
        if d < 0:
            bad.append((i, "revenue", f"negative revenue {v} cannot be attributed"))
        out.append(int((d * 100).to_integral_value()))
    if bad:
        raise ValidationFailed(f"{len(bad)} conversion(s) have unusable revenue", rows=bad)
    return out


def _need(df: pl.DataFrame, cols: list[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValidationFailed(f"{what} need column(s) {', '.join(missing)}")


def build_journeys(touchpoints: pl.DataFrame, conversions: pl.DataFrame, *,
                   lookback_days: float = 90, direct: DirectRule = "keep",
                   channel: str = "channel", key: str = "person_id") -> Journeys:
    """Build the journey of every conversion (and of people who did not convert).

    ``touchpoints`` needs ``key``, ``occurred_at`` and ``channel`` (whatever dimension is being
    attributed: channel group, source or campaign); ``is_direct``, ``is_lead_created`` and
    ``is_opportunity_created`` are optional booleans. ``conversions`` needs ``key``,
    ``conversion_id``, ``converted_at`` and ``revenue``. See the module doc for the rules.
    """
    if direct not in ("keep", "skip_if_other"):
        raise ValidationFailed(f"direct must be 'keep' or 'skip_if_other', not '{direct}'")
    _need(touchpoints, [key, "occurred_at", channel], "touchpoints")
    _need(conversions, [key, "conversion_id", "converted_at", "revenue"], "conversions")
    tp = touchpoints.select(
        pl.col(key).cast(pl.String).alias("key"), _utc(touchpoints, "occurred_at").alias("t"),
        pl.col(channel).cast(pl.String).fill_null("(none)").alias("channel"),
        *[(pl.col(c).cast(pl.Boolean).fill_null(False) if c in touchpoints.columns
           else pl.lit(d)).alias(c) for c, d in _TOUCH_OPTIONAL.items()],
    ).filter(pl.col("t").is_not_null())
    try:
        cents = _cents(conversions["revenue"])
    except ValidationFailed as e:
        # name the conversions, not internal positions: the user has to find them in their data
        ids = conversions["conversion_id"].cast(pl.String)
        named = [(row, col, f"{ids[row]}: {reason}") for row, col, reason in e.rows]
        shown = "; ".join(reason for _, _, reason in named[:3]) + ("; ..." if len(named) > 3 else "")
        raise ValidationFailed(f"{e.message}: {shown}", rows=named) from None
    cv = conversions.select(
        pl.col(key).cast(pl.String).alias("key"), pl.col("conversion_id").cast(pl.String),
        _utc(conversions, "converted_at").alias("ct"), cents,
    ).sort("ct", "conversion_id", "key", "revenue_cents")
    window = pl.duration(microseconds=round(lookback_days * 86_400_000_000))

    conv = cv.with_columns(pl.int_range(0, pl.len()).alias("j"))
    joined = (
        tp.join(conv.select("key", "ct", "j"), on="key", how="inner")
        .filter((pl.col("t") <= pl.col("ct")) & (pl.col("t") > pl.col("ct") - window))
        .with_columns(age_days=(pl.col("ct") - pl.col("t")).dt.total_microseconds() / 86_400e6)
        .drop("ct")
    )
    # People who never converted: their last lookback window ends at their latest touch.
    never = tp.join(cv.select("key").unique(), on="key", how="anti")
    never = (
        never.with_columns(ct=pl.col("t").max().over("key"))
        .filter(pl.col("t") > pl.col("ct") - window)
        .with_columns(age_days=(pl.col("ct") - pl.col("t")).dt.total_microseconds() / 86_400e6,
                      j=pl.col("key").rank("dense").cast(pl.Int64) - 1 + conv.height)
        .drop("ct")
    )
    n_never = int(never["j"].max()) + 1 - conv.height if never.height else 0
    touches = pl.concat([joined, never.select(joined.columns)])
    if direct == "skip_if_other":
        touches = touches.filter(~pl.col("is_direct") | pl.col("is_direct").all().over("j"))
    # A conversion without a touch gets a synthetic one so every model credits it somewhere.
    lonely = conv.join(touches.select("j").unique(), on="j", how="anti").select(
        "j", "key", pl.col("ct").alias("t"), pl.lit(NO_TOUCHPOINT).alias("channel"),
        *[pl.lit(False).alias(c) for c in _TOUCH_OPTIONAL], pl.lit(0.0).alias("age_days"))
    touches = pl.concat([touches, lonely.select(touches.columns)])

    channels = sorted(touches["channel"].unique().to_list())
    codes = pl.DataFrame({"channel": pl.Series(channels, dtype=pl.String),
                          "ch": np.arange(len(channels), dtype=np.int32)})
    touches = (
        touches.join(codes, on="channel", how="left")
        # ties in time are broken by channel name, then flags: the same result for any row order
        .sort("j", "t", "ch", *_TOUCH_OPTIONAL)
        .with_columns(pos=pl.int_range(0, pl.len()).over("j").cast(pl.Int32),
                      n=pl.len().over("j").cast(pl.Int32))
        .select("j", "pos", "n", "ch", "age_days", *_TOUCH_OPTIONAL)
    )
    counts = touches.group_by("j").agg(pl.len().cast(pl.Int32).alias("n"))
    journeys = pl.concat([
        conv.select("j", "conversion_id", pl.lit(True).alias("converted"), "revenue_cents"),
        pl.DataFrame({"j": np.arange(conv.height, conv.height + n_never, dtype=np.int64)}).with_columns(
            pl.lit(None, pl.String).alias("conversion_id"), pl.lit(False).alias("converted"),
            pl.lit(0, pl.Int64).alias("revenue_cents")),
    ]).join(counts, on="j", how="left").sort("j")
    return Journeys(touches=touches, journeys=journeys, channels=channels)
