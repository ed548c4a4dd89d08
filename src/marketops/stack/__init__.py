"""The martech stack: the tools a marketing team pays for, how data flows between them, and the
audit that asks what each costs per active user, where tools overlap and which renewals are near.

Tools and integrations are things people create day to day, so they live in the app database
(:mod:`marketops.state.stack`); the functions here take a SQLAlchemy session (and, for data
freshness, a workspace) and return dataclasses the CLI, the web app, the API and notebooks share.
"""
