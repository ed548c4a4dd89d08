"""The plan: goals that measure themselves, initiatives from user stories, tasks, budgets, internal
SLAs and the alerts that watch them.

What people create day to day (goals, initiatives, tasks, budget lines) is kept in the app database
(:mod:`marketops.state.planning`); rules (SLAs, who gets which alert) live in ``marketops.yaml``.
Every function here takes a SQLAlchemy session and, where numbers are needed, a workspace, and
returns dataclasses or model objects, so the CLI, the web app, the API and notebooks share them.
"""
