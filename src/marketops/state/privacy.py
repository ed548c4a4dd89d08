"""Consent and privacy: consent records from the API, suppression lists, erasure receipts."""

from __future__ import annotations
