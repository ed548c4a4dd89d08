"""Data quality: normalising values, channel grouping, identity and survivorship."""
