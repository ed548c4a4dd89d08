"""Martech stack: tools, their integrations and evaluations of tools under consideration."""

from __future__ import annotations
