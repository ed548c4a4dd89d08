"""Multi-touch attribution: which channels get the credit for conversions and revenue.

Build journeys once with :func:`build_journeys`, then run any model by name. Every model
returns one row per channel: ``channel``, ``conversions`` (Decimal, 6 places), ``revenue``
(Decimal, cents), ``share`` of conversions, and the exact integers ``conversions_micro`` and
``revenue_cents``. Credits add up exactly to the number of conversions and total revenue, and
the same input always gives the same output. Rows are ordered by conversions, then channel.

Example:
    >>> import datetime as dt, polars as pl
    >>> t = pl.DataFrame({"person_id": ["p", "p"], "channel": ["Email", "Paid Search"],
    ...     "occurred_at": [dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 2)]})
    >>> c = pl.DataFrame({"person_id": ["p"], "conversion_id": ["c"], "revenue": ["99.99"],
    ...     "converted_at": [dt.datetime(2024, 1, 3)]})
    >>> out = attribute(build_journeys(t, c), "linear")
    >>> out.select("channel", "revenue").rows()
    [('Email', Decimal('50.00')), ('Paid Search', Decimal('49.99'))]
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from marketops.attribution.journeys import NO_TOUCHPOINT, Journeys, build_journeys
from marketops.attribution.markov import markov
from marketops.attribution.rules import (
    first_touch,
    last_non_direct,
    last_touch,
    linear,
    position_based,
    time_decay,
    w_shaped,
)
from marketops.attribution.shapley import shapley
from marketops.errors import unknown_name

MODELS: dict[str, Callable[..., pl.DataFrame]] = {
    "first_touch": first_touch, "last_touch": last_touch, "last_non_direct": last_non_direct,
    "linear": linear, "time_decay": time_decay, "position_based": position_based,
    "w_shaped": w_shaped, "markov": markov, "shapley": shapley,
}


def attribute(journeys: Journeys, model: str, **params) -> pl.DataFrame:
    """Run the model called ``model`` (a key of ``MODELS``) with its keyword ``params``."""
    if model not in MODELS:
        raise unknown_name("attribution model", model, MODELS)
    return MODELS[model](journeys, **params)


def compare(journeys: Journeys, models: dict[str, dict] | None = None) -> pl.DataFrame:
    """Every model side by side: one row per (model, channel).

    ``models`` maps a model name to its params; by default every model with its defaults.
    """
    models = models if models is not None else {name: {} for name in MODELS}
    frames = [attribute(journeys, name, **params)
              .select(pl.lit(name).alias("model"), "channel", "conversions", "revenue", "share")
              for name, params in models.items()]
    return pl.concat(frames)


__all__ = ["MODELS", "NO_TOUCHPOINT", "Journeys", "attribute", "build_journeys", "compare",
           "first_touch", "last_non_direct", "last_touch", "linear", "markov", "position_based",
           "shapley", "time_decay", "w_shaped"]
