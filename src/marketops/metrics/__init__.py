"""The metrics layer: metric definitions as data (built-ins plus the workspace's), queried by
dimension and time grain over the canonical tables, with period-over-period change.

Example:
    >>> from marketops.metrics import load_catalog
    >>> load_catalog()["cpc"].format
    'currency'
"""

from marketops.metrics.definitions import DIMENSIONS, Catalog, Metric, load_catalog, parse_metrics
from marketops.metrics.query import GRAINS, query_metrics

__all__ = ["DIMENSIONS", "GRAINS", "Catalog", "Metric", "load_catalog", "parse_metrics", "query_metrics"]
