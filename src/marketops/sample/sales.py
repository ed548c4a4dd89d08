"""The sample company's sales side: who owns each person, how fast sales follows up an MQL, what becomes
of the MQLs that never turn into SQLs, and the calls, emails and meetings the reps log in the two CRMs.

* **Owner**: a rep of the team whose territory covers the person's country (:data:`world.SALES_TEAMS`),
  spread over the team's reps by the person id, the same rep in HubSpot and in Salesforce.
* **First touch**: every MQL draws a follow-up speed (70% well within the SLA target, 13% near it, 12%
  late, 5% never) as business hours on its team's calendar (time zone, working hours, public holidays);
  the touch is that many business hours after the MQL, on a whole minute (the CRMs show minutes). SQLs
  were followed up quickly. A touch after the end of the period has not happened yet.
* **Outcome**: SQLs are the people with a deal; a touched MQL without one is, a few business days later,
  recycled to nurturing (45%) or rejected by sales (25%) with a reason, or still being worked.
* **Activities**: the first touch, follow-up calls and emails (more for SQLs), a discovery meeting and
  a proposal review for opportunities, and now and then an inbound call from the lead (no follow-up:
  it never counts as the first touch). People Salesforce knows are worked there; the others in HubSpot.
  Salesforce-only people who asked for a demo are worked too (they have no lifecycle history).

Example:
    >>> import numpy as np
    >>> from marketops.sample.people import make_people
    >>> from marketops.sample.journeys import simulate, mailchimp_sends
    >>> from marketops.sample.exports import lifecycle
    >>> rng = np.random.default_rng(4)
    >>> p = make_people(rng, start=0, n=400, n_companies=50)
    >>> j = simulate(rng, p, days=90, sends=mailchimp_sends(90))
    >>> end = T0 + 90 * DAY - 60
    >>> side = simulate_sales(np.random.default_rng(1), p, j, lifecycle(p, j, end), end)
    >>> t = side.touch_at >= 0
    >>> bool((side.touch_at[t] % 60 == 0).all()), bool((side.touch_at[t] >= side.mql_at[t]).all())
    (True, True)
    >>> sorted({world.SALES_REPS[r].team for r in side.owner.tolist()})
    ['sales-emea', 'sales-na', 'sales-uk']
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import polars as pl

from marketops.leads.calendar import US_PER_HOUR, BusinessCalendar
from marketops.leads.sla_config import WEEKDAYS, TeamCalendar
from marketops.sample import world
from marketops.sample.exports import _FIRST, _LAST, _dates, hubspot_contact_id, salesforce_id
from marketops.sample.journeys import DAY, T0, Journeys
from marketops.sample.people import People, hubspot_company_id

SPEEDS = ("fast", "near", "late", "never")
_SPEED_P = np.cumsum((0.70, 0.13, 0.12, 0.05))
OUTCOMES = ("open", "sql", "recycled", "rejected")
#: Lifecycle history stage codes after world.HUBSPOT_STAGES' six.
RECYCLED, REJECTED = 6, 7
KINDS = ("Call", "Email", "Meeting")
CALL_RESULTS = ("Connected", "Left voicemail", "No answer")
#: Subjects by role of the activity: first touch, follow-up, meeting, inbound.
SUBJECTS = {
    ("first", 0): "Intro call", ("first", 1): "Following up on your request",
    ("follow", 0): "Follow-up call", ("follow", 1): "Re: Acme Analytics - next steps",
    ("meeting", 2): "Discovery meeting", ("proposal", 2): "Proposal review", ("inbound", 0): "Inbound call",
}
_ROLE_SUBJECT = {role: i for i, role in enumerate(SUBJECTS)}
_SUBJECT_TEXT = np.array(list(SUBJECTS.values()), dtype=object)
_TEAM_OF_COUNTRY = np.array([next(t_i for t_i, t in enumerate(world.SALES_TEAMS) if c[0] in t.countries)
                             for c in world.COUNTRIES])
_REPS_OF_TEAM = [np.array([r_i for r_i, r in enumerate(world.SALES_REPS) if r.team == t.name])
                 for t in world.SALES_TEAMS]
_REP_TEAM = np.array([next(t_i for t_i, t in enumerate(world.SALES_TEAMS) if t.name == r.team)
                      for r in world.SALES_REPS])
_REP_NAMES = np.array([r.name for r in world.SALES_REPS], dtype=object)
TRUTH_HEADER = ["person_id", "email", "crm", "in_lifecycle", "owner", "owner_email", "team", "mql_at", "speed",
                "first_touch_at", "first_touch_type", "response_hours", "outcome", "outcome_at", "reason"]


def team_calendar(team: world.SalesTeam) -> TeamCalendar:
    """The speed-to-lead calendar of a sample team (what ``leads.sla.teams`` says for it).

    >>> team_calendar(world.SALES_TEAMS[0]).windows()[0]
    [(540, 780), (840, 1080)]
    """
    return TeamCalendar(name=team.name, timezone=team.timezone, holiday_country=team.holiday_country,
                        hours={d: team.hours for d in WEEKDAYS[:5]}, target_hours=team.target_hours,
                        escalate_to=team.escalate_to)


@cache
def calendars() -> tuple[BusinessCalendar, ...]:
    """One business calendar per team (index-aligned with world.SALES_TEAMS), built once per process."""
    return tuple(BusinessCalendar(team_calendar(t)) for t in world.SALES_TEAMS)


def owners(people: People) -> np.ndarray:
    """Index into world.SALES_REPS of each person's owner: a rep of the team covering their country.

    >>> from marketops.sample.people import make_people
    >>> p = make_people(np.random.default_rng(0), start=0, n=6, n_companies=4)
    >>> bool(all(world.COUNTRIES[c][0] in world.SALES_TEAMS[_REP_TEAM[r]].countries
    ...          for c, r in zip(p.country.tolist(), owners(p).tolist())))
    True
    """
    team = _TEAM_OF_COUNTRY[people.country]
    out = np.empty(len(people), dtype=np.int64)
    for t_i, reps in enumerate(_REPS_OF_TEAM):
        mask = team == t_i
        # a multiplicative hash, so that neighbouring ids do not all go round-robin the same way
        out[mask] = reps[(people.pid[mask] * 2_654_435_761 // 7) % len(reps)]
    return out


@dataclass
class SalesSide:
    """The sales side of one chunk: per person, then per lead (MQL), then per activity."""

    owner: np.ndarray        # per person: index into world.SALES_REPS
    lead: np.ndarray         # per lead: local person index (HubSpot MQLs, then Salesforce-only demo requests)
    in_lifecycle: np.ndarray  # the lead's MQL is in the lifecycle history (HubSpot); else Salesforce only
    mql_at: np.ndarray       # epoch seconds
    speed: np.ndarray        # index into SPEEDS
    touch_at: np.ndarray     # epoch seconds of the first touch; -1: not touched by the end of the period
    touch_kind: np.ndarray   # index into KINDS, -1 when not touched
    response_hours: np.ndarray  # business hours MQL -> first touch on the team's calendar, NaN when not touched
    outcome: np.ndarray      # index into OUTCOMES
    outcome_at: np.ndarray   # -1 when open
    reason: np.ndarray       # index into RECYCLE_REASONS or REJECT_REASONS by outcome, -1 when none
    act_person: np.ndarray   # per activity: local person index
    act_at: np.ndarray
    act_kind: np.ndarray
    act_inbound: np.ndarray
    act_result: np.ndarray   # index into CALL_RESULTS, -1 for emails and meetings
    act_subject: np.ndarray  # index into SUBJECTS

    def person_outcome(self, n: int) -> np.ndarray:
        """OUTCOMES index per person (0 for people who are no lead)."""
        out = np.zeros(n, dtype=np.int64)
        out[self.lead] = self.outcome
        return out

    def person_touched(self, n: int) -> np.ndarray:
        out = np.zeros(n, dtype=bool)
        out[self.lead] = self.touch_at >= 0
        return out


def _minute_ceil(us: np.ndarray) -> np.ndarray:
    """Microseconds -> epoch seconds on the next whole minute (never before the instant)."""
    return -(-us // (60 * 1_000_000)) * 60


def _after_business_hours(team: np.ndarray, start: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """Epoch seconds (whole minutes) ``hours`` business hours after ``start`` on each row's team calendar."""
    out = np.zeros(len(start), dtype=np.int64)
    for t_i, cal in enumerate(calendars()):
        rows = np.flatnonzero(team == t_i)
        if len(rows):
            out[rows] = _minute_ceil(cal.deadlines_us(start[rows] * 1_000_000, hours[rows]))
    return out


def simulate_sales(rng: np.random.Generator, people: People, j: Journeys, stages: pl.DataFrame,
                   end: int) -> SalesSide:
    """The sales side of one chunk, from its people, journeys and lifecycle history (stage code 2 = MQL)."""
    n = len(people)
    owner = owners(people)
    mqls = stages.filter(pl.col("stage") == 2)
    hs_lead, hs_at = mqls["i"].to_numpy().astype(np.int64), mqls["at"].to_numpy().astype(np.int64)
    # Salesforce-only demo requests are worked too, from the moment they converted
    sf_lead = np.flatnonzero(people.in_salesforce & ~people.in_hubspot & j.converted & (j.identified_at >= 0))
    lead = np.concatenate([hs_lead, sf_lead])
    mql_at = np.concatenate([hs_at, j.converted_at[sf_lead]]).astype(np.int64)
    in_lifecycle = np.arange(len(lead)) < len(hs_lead)
    m = len(lead)
    team = _REP_TEAM[owner[lead]]
    target = np.array([t.target_hours for t in world.SALES_TEAMS])[team]

    speed = np.searchsorted(_SPEED_P, rng.random(m) * _SPEED_P[-1], side="right")
    sql = j.has_deal[lead]
    speed = np.where(sql, np.minimum(speed, 1), speed)  # SQLs were followed up in time
    share = np.select([speed == 0, speed == 1, speed == 2],
                      [rng.uniform(0.03, 0.7, m), rng.uniform(0.76, 0.97, m), rng.uniform(1.2, 5.0, m)], 0.0)
    touched = speed < 3
    touch_at = np.where(touched, _after_business_hours(team, mql_at, share * target), -1)
    touch_at = np.where(touch_at > end, -1, touch_at)
    touched = touch_at >= 0
    response = np.full(m, np.nan)
    for t_i, cal in enumerate(calendars()):
        rows = np.flatnonzero(touched & (team == t_i))
        if len(rows):
            response[rows] = cal.durations_us(mql_at[rows] * 1_000_000, touch_at[rows] * 1_000_000) / US_PER_HOUR
    touch_kind = np.where(touched, (rng.random(m) < 0.4).astype(np.int64), -1)

    # what became of the MQL: SQL (a deal), or a few days after the first touch recycled or rejected
    decided_at = _after_business_hours(team, np.maximum(touch_at, mql_at), 4.0 + rng.exponential(40.0, m))
    u = rng.random(m)
    outcome = np.where(sql, 1, np.where(~touched | (decided_at > end), 0, np.where(u < 0.45, 2, np.where(u < 0.7, 3, 0))))
    outcome_at = np.select([outcome == 1, outcome >= 2], [j.deal_created[lead], decided_at], -1)
    reason = np.select(
        [outcome == 2, outcome == 3],
        [np.searchsorted(np.cumsum((0.4, 0.4, 0.2)), rng.random(m) * 0.999999, side="right"),
         np.searchsorted(np.cumsum((0.35, 0.25, 0.25, 0.15)), rng.random(m) * 0.999999, side="right")], -1)

    acts = _activities(rng, j, lead, team, mql_at, touch_at, touch_kind, outcome, outcome_at, end)
    return SalesSide(owner, lead, in_lifecycle, mql_at, speed, touch_at, touch_kind, response, outcome,
                     outcome_at, reason, *acts)


def _activities(rng: np.random.Generator, j: Journeys, lead: np.ndarray, team: np.ndarray, mql_at: np.ndarray,
                touch_at: np.ndarray, touch_kind: np.ndarray, outcome: np.ndarray, outcome_at: np.ndarray,
                end: int) -> tuple[np.ndarray, ...]:
    """Every activity of the chunk's leads, sorted by person and time (person, at, kind, inbound, result, subject)."""
    m = len(lead)
    parts: list[tuple[np.ndarray, ...]] = []

    def add(rows: np.ndarray, at: np.ndarray, kind: np.ndarray, inbound: bool, role: str) -> None:
        keep = at <= end
        rows, at, kind = rows[keep], at[keep], kind[keep]
        k = len(rows)
        result = np.where(kind == 0, np.searchsorted(np.cumsum((0.45, 0.35, 0.2)), rng.random(k) * 0.999999,
                                                     side="right"), -1)
        if inbound:
            result = np.zeros(k, dtype=np.int64)  # the lead called: somebody answered
        subject = np.array([_ROLE_SUBJECT.get((role, x), -1) for x in range(len(KINDS))])
        parts.append((lead[rows], at, kind, np.full(k, inbound), result, subject[kind]))

    touched = np.flatnonzero(touch_at >= 0)
    add(touched, touch_at[touched], touch_kind[touched], False, "first")

    # follow-ups: a few business days apart, more for SQLs, none after the lead was recycled or rejected
    count = rng.poisson(1.2, m) + np.where(outcome == 1, 2, 0)
    count = np.where(touch_at >= 0, count, 0)
    rows = np.repeat(np.arange(m), count)
    gaps = rng.exponential(12.0, len(rows)) + 0.5
    first = np.repeat(np.cumsum(count) - count, count)  # each follow-up's first sibling
    cum = np.cumsum(gaps)
    cum -= cum[first] - gaps[first]  # business hours since the first touch, per lead
    at = _after_business_hours(team[rows], touch_at[rows], cum)
    closed = (outcome[rows] >= 2) & (at > outcome_at[rows])
    kind = (rng.random(len(rows)) < 0.5).astype(np.int64)
    add(rows[~closed], at[~closed], kind[~closed], False, "follow")

    # opportunities: a discovery meeting when the deal opens, a proposal review before it closes
    opp = np.flatnonzero(j.has_deal[lead])
    meet = _after_business_hours(team[opp], j.deal_created[lead[opp]], rng.uniform(0.5, 6.0, len(opp)))
    add(opp, meet, np.full(len(opp), 2), False, "meeting")
    review = _after_business_hours(team[opp], j.deal_created[lead[opp]], rng.uniform(16.0, 80.0, len(opp)))
    ok = review < j.deal_close[lead[opp]]
    add(opp[ok], review[ok], np.full(int(ok.sum()), 2), False, "proposal")

    # now and then the lead calls first: inbound, never the first touch
    inbound = np.flatnonzero(rng.random(m) < 0.06)
    call_at = mql_at[inbound] + 300 + (rng.random(len(inbound)) * 4 * 3600).astype(np.int64)
    add(inbound, call_at - call_at % 60, np.zeros(len(inbound), np.int64), True, "inbound")

    cols = [np.concatenate([p[c] for p in parts]) for c in range(6)]
    order = np.lexsort((cols[1], cols[0]))
    return tuple(c[order] for c in cols)


def _reason_text(outcome: np.ndarray, reason: np.ndarray) -> np.ndarray:
    out = np.full(len(outcome), None, dtype=object)
    for code, names in ((2, world.RECYCLE_REASONS), (3, world.REJECT_REASONS)):
        mask = outcome == code
        out[mask] = np.array(names, dtype=object)[reason[mask]]
    return out


def with_outcomes(stages: pl.DataFrame, side: SalesSide) -> pl.DataFrame:
    """The lifecycle history with the recycled and rejected MQLs' rows (their reason in ``reason``)."""
    keep = side.in_lifecycle & (side.outcome >= 2)
    code = np.where(side.outcome[keep] == 2, RECYCLED, REJECTED)
    reasons = _reason_text(side.outcome[keep], side.reason[keep])
    extra = pl.DataFrame({"i": side.lead[keep].astype(np.int64), "stage": code.astype(np.int64),
                          "at": side.outcome_at[keep].astype(np.int64), "reason": reasons.tolist()},
                         schema={"i": pl.Int64, "stage": pl.Int64, "at": pl.Int64, "reason": pl.String})
    base = stages.with_columns(pl.lit(None, dtype=pl.String).alias("reason"))
    return pl.concat([base, extra]).sort(["i", "at", "stage"])


# -- exports ------------------------------------------------------------------------------------------------

def _texts(present: np.ndarray, values: np.ndarray) -> list[str | None]:
    """``values`` where ``present``, else None (an empty cell), as a list polars reads as strings."""
    return [v if ok else None for v, ok in zip(values.tolist(), present.tolist())]


def _activity_number(person: np.ndarray, pid: np.ndarray) -> np.ndarray:
    """A number unique to each activity across chunks: person id x 64 + its rank within the person."""
    starts = np.flatnonzero(np.r_[True, person[1:] != person[:-1]]) if len(person) else np.zeros(0, np.int64)
    rank = np.arange(len(person)) - np.repeat(starts, np.diff(np.r_[starts, len(person)]))
    return pid[person] * 64 + np.minimum(rank, 63)


def hubspot_activities(people: People, side: SalesSide) -> pl.DataFrame:
    """HubSpot activities export rows of the people sales works in HubSpot (those Salesforce does not know)."""
    sel = np.flatnonzero(~people.in_salesforce[side.act_person])
    p = side.act_person[sel]
    kind = side.act_kind[sel]
    at = side.act_at[sel]
    call = kind == 0
    number = _activity_number(side.act_person, people.pid)[sel]
    names = [f"{f} {la} ({e})" for f, la, e in zip(_FIRST[people.first[p]].tolist(), _LAST[people.last[p]].tolist(),
                                                     np.array(people.work_email, dtype=object)[p].tolist())]
    return pl.DataFrame({
        "Record ID": 45_100_000_000 + (number * 2_654_435_761) % 2**32,
        "Activity date": _dates(at, "%Y-%m-%d %H:%M"),
        "Activity type": np.array(KINDS)[kind],
        "Activity assigned to": _REP_NAMES[side.owner[p]],
        "Call direction": _texts(call, np.where(side.act_inbound[sel], "Inbound", "Outbound")),
        "Call outcome": _texts(call, np.array(CALL_RESULTS)[np.maximum(side.act_result[sel], 0)]),
        "Associated Contact": names,
        "Associated Contact IDs": hubspot_contact_id(people.pid[p]).astype(str),
        "Associated Company IDs": hubspot_company_id(people.company[p]).astype(str),
        "Last modified date": _dates(at + 60 * np.where(call, 12, 1), "%Y-%m-%d %H:%M"),
    })


def salesforce_activities(people: People, side: SalesSide, lead_ids: dict[int, str]) -> pl.DataFrame:
    """Salesforce "Tasks and Events" report rows (en_US locale) of the people Salesforce knows."""
    sel = np.flatnonzero(people.in_salesforce[side.act_person])
    p = side.act_person[sel]
    kind = side.act_kind[sel]
    at = side.act_at[sel]
    call = kind == 0
    number = _activity_number(side.act_person, people.pid)[sel]
    task_ids = salesforce_id("00T5g", number)
    event_ids = salesforce_id("00U5g", number)  # meetings are Events, the rest Tasks
    email = np.where(people.sf_personal_email, np.array(people.personal_email, dtype=object),
                     np.array(people.work_email, dtype=object))
    subject = _SUBJECT_TEXT[side.act_subject[sel]]
    return pl.DataFrame({
        "Activity ID": np.where(kind == 2, event_ids, task_ids),
        "Assigned": _REP_NAMES[side.owner[p]],
        "Subject": np.where(kind == 1, "Email: " + subject.astype(str), subject).astype(str),
        "Date": _dates(at, "%-m/%-d/%Y %-I:%M %p"),
        "Type": np.array(KINDS)[kind],
        "Call Type": _texts(call, np.where(side.act_inbound[sel], "Inbound", "Outbound")),
        "Call Result": _texts(call, np.array(CALL_RESULTS)[np.maximum(side.act_result[sel], 0)]),
        "Lead ID": [lead_ids.get(int(i), "") for i in people.pid[p].tolist()],
        "Email": email[p],
        "Last Modified Date": _dates(at + 60 * np.where(call, 12, 1), "%-m/%-d/%Y %-I:%M %p"),
    })


def truth_rows(people: People, side: SalesSide) -> pl.DataFrame:
    """The truth of each lead: owner, true first touch and response time, outcome and reason."""
    lead = side.lead
    rep = side.owner[lead]
    touched = side.touch_at >= 0
    reason = _reason_text(side.outcome, side.reason)
    return pl.DataFrame({
        "person_id": [f"P{p:09d}" for p in people.pid[lead].tolist()],
        "email": np.array(people.work_email, dtype=object)[lead],
        "crm": np.where(people.in_salesforce[lead], "salesforce", "hubspot"),
        "in_lifecycle": side.in_lifecycle,
        "owner": _REP_NAMES[rep],
        "owner_email": np.array([r.email for r in world.SALES_REPS], dtype=object)[rep],
        "team": np.array([t.name for t in world.SALES_TEAMS], dtype=object)[_REP_TEAM[rep]],
        "mql_at": _dates(side.mql_at, "%Y-%m-%dT%H:%M:%SZ"),
        "speed": np.array(SPEEDS)[side.speed],
        "first_touch_at": _dates(side.touch_at, "%Y-%m-%dT%H:%M:%SZ"),
        "first_touch_type": _texts(touched, np.array(KINDS)[np.maximum(side.touch_kind, 0)]),
        "response_hours": pl.Series(np.round(side.response_hours, 4), nan_to_null=True),
        "outcome": np.array(OUTCOMES)[side.outcome],
        "outcome_at": _dates(side.outcome_at, "%Y-%m-%dT%H:%M:%SZ"),
        "reason": reason.tolist(),
    }).select(TRUTH_HEADER)


def leads_yaml() -> str:
    """The ``leads:`` section of the sample workspace's marketops.yaml: every rep as a routing owner (with
    the team's countries as territories; new MQLs go to their territory's reps in turn, other countries to
    the first team, existing accounts to their owner), each team's calendar, target
    and escalation address for the speed-to-lead SLA, and the sample's MQL definition: the HubSpot MQL
    stage, the moment its sales team starts the clock (scores would name MQLs nobody simulated a
    follow-up for).

    >>> from ruamel.yaml import YAML
    >>> from marketops.leads.config import LeadsConfig
    >>> cfg = LeadsConfig(**YAML(typ="safe").load(leads_yaml())["leads"])
    >>> len(cfg.routing.owners), [t.name for t in cfg.sla.teams], cfg.sla.team("sales-na").holiday_country
    (8, ['sales-emea', 'sales-uk', 'sales-na'], 'US')
    >>> cfg.routing.rules[0].method, cfg.lifecycle.mql.any[0].stage
    ('territory', 'mql')
    """
    import json

    q = json.dumps  # a JSON string is a YAML scalar: no quoting surprises
    countries = {t.name: t.countries for t in world.SALES_TEAMS}
    names = ", ".join(q(r.name) for r in world.SALES_REPS)
    lines = ["", "# The sample company's sales side (written by `marketops init --sample`): its reps, who own the",
             "# leads of their team's countries, and each team's working calendar for the speed-to-lead SLA.",
             "leads:", "  routing:", "    account_owner_match: true", "    rules:",
             f"      - {{name: \"Territories\", method: territory, owners: [{names}]}}",
             f"    fallback: {{team: {q(world.SALES_TEAMS[0].name)}}}", "    owners:"]
    for r in world.SALES_REPS:
        lines.append(f"      - {{name: {q(r.name)}, email: {q(r.email)}, team: {q(r.team)}, "
                     f"territories: [{', '.join(countries[r.team])}]}}")
    lines += ["  sla:", f"    target_hours: {world.SALES_TEAMS[0].target_hours:g}", "    near_breach: 0.75",
              f"    default_team: {q(world.SALES_TEAMS[0].name)}", "    touch_types: [call, email, meeting]",
              "    teams:"]
    for t in world.SALES_TEAMS:
        hours = ", ".join(f"{d}: {q(t.hours)}" for d in WEEKDAYS[:5])
        lines += [f"      - name: {q(t.name)}", f"        timezone: {q(t.timezone)}",
                  f"        holiday_country: {t.holiday_country}", f"        hours: {{{hours}}}",
                  f"        target_hours: {t.target_hours:g}", f"        escalate_to: {q(t.escalate_to)}"]
    lines += ["  lifecycle:", "    mql:",
              '      description: "Acme\'s marketing hands a lead to sales when HubSpot marks it a Marketing '
              'Qualified Lead."', "      any: [{stage: mql}]"]
    return "\n".join(lines) + "\n"


__all__ = ["leads_yaml", "SalesSide", "calendars", "hubspot_activities", "owners", "salesforce_activities", "simulate_sales",
           "team_calendar", "truth_rows", "with_outcomes"]
