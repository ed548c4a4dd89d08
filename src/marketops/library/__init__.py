"""The team's library: markdown playbooks and process documents with full-text search, templates
that create an initiative with its tasks, and the register of digital assets with expiry warnings.
"""
