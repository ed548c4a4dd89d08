"""The sample company: a synthetic B2B marketing stack's exports, with their dirt and the ground truth.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from marketops.sample import generate
    >>> summary = generate(Path(tempfile.mkdtemp()), contacts=200, months=1, seed=3)
    >>> sorted(summary.files)[:3]
    ['conversions.csv', 'exchange_rates.csv', 'ga4_traffic_acquisition.csv']
"""

from marketops.sample.generator import INBOX_FILES, SampleSummary, generate

__all__ = ["INBOX_FILES", "SampleSummary", "generate"]
