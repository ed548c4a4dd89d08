"""Leads to sales: lifecycle stages and their history, lead scoring, routing of new MQLs to owners,
the speed-to-lead SLA and the quality of the handoff.

The rules (stage and MQL/SQL definitions, scoring, routing, working calendars) live in the ``leads:``
section of ``marketops.yaml`` (:class:`marketops.leads.config.LeadsConfig`), so marketing and sales
read one definition; the facts come from the canonical tables of the last good run.
"""
