"""Working calendars and business-hours arithmetic for the speed-to-lead SLA: hand-computed hours across
weekends, public holidays, daylight-saving changes and split days; properties that must always hold;
configuration errors with file and line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketops.errors import ConfigError
from marketops.leads.calendar import US_PER_HOUR, BusinessCalendar, to_us
from marketops.leads.sla_config import WEEKDAYS, SpeedToLeadConfig, TeamCalendar
from marketops.settings import load_config

UTC = dt.UTC
WORKWEEK = WEEKDAYS[:5]


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def local(zone: str, *args: int) -> dt.datetime:
    from zoneinfo import ZoneInfo

    return dt.datetime(*args, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def cal(zone: str = "UTC", hours: str = "09:00-17:00", days=WORKWEEK, **kw) -> BusinessCalendar:
    return BusinessCalendar(TeamCalendar(name="t", timezone=zone, hours={d: hours for d in days}, **kw))


ROME = cal("Europe/Rome", "09:00-13:00, 14:00-18:00", holiday_country="IT")
NEW_YORK = cal("America/New_York", holiday_country="US")


# -- hand-computed -------------------------------------------------------------------------------------

def test_a_weekend_is_not_counted():
    c = cal()
    friday_4pm, monday_10am = utc(2026, 3, 6, 16), utc(2026, 3, 9, 10)
    assert c.hours_between(friday_4pm, monday_10am) == 2.0
    assert c.deadline(friday_4pm, 2) == monday_10am
    assert c.deadline(friday_4pm, 1) == utc(2026, 3, 6, 17)  # the budget ends with Friday's window


def test_italys_8_december_is_closed():
    # Monday 7 Dec 2026 17:00 in Rome -> Wednesday 9 Dec 10:00: Mon 17-18 + Wed 9-10; Tuesday 8 Dec is a holiday
    monday_5pm = local("Europe/Rome", 2026, 12, 7, 17)
    assert ROME.hours_between(monday_5pm, local("Europe/Rome", 2026, 12, 9, 10)) == 2.0
    assert ROME.closed_reason(dt.date(2026, 12, 8)) == "holiday: Immaculate Conception"
    assert ROME.deadline(monday_5pm, 8) == local("Europe/Rome", 2026, 12, 9, 17)


def test_us_thanksgiving_is_closed():
    wednesday_4pm = local("America/New_York", 2026, 11, 25, 16)
    friday_10am = local("America/New_York", 2026, 11, 27, 10)
    assert NEW_YORK.hours_between(wednesday_4pm, friday_10am) == 2.0
    assert NEW_YORK.closed_reason(dt.date(2026, 11, 26)) == "holiday: Thanksgiving Day"
    # a calendar without the holiday country works that Thursday
    assert cal("America/New_York").hours_between(wednesday_4pm, friday_10am) == 10.0


def test_a_lead_created_on_a_holiday_starts_at_the_next_working_minute():
    on_holiday = local("Europe/Rome", 2026, 12, 8, 11)
    assert ROME.next_working(on_holiday) == local("Europe/Rome", 2026, 12, 9, 9)
    assert ROME.deadline(on_holiday, 1) == local("Europe/Rome", 2026, 12, 9, 10)
    assert ROME.hours_between(on_holiday, local("Europe/Rome", 2026, 12, 8, 23)) == 0.0


def test_split_days_skip_the_lunch_break():
    assert ROME.hours_between(local("Europe/Rome", 2026, 3, 2, 12, 30), local("Europe/Rome", 2026, 3, 2, 14, 30)) == 1.0
    at_lunch = local("Europe/Rome", 2026, 3, 2, 13, 30)
    assert ROME.deadline(at_lunch, 1) == local("Europe/Rome", 2026, 3, 2, 15)
    assert ROME.deadline(at_lunch, 4) == local("Europe/Rome", 2026, 3, 2, 18)
    assert ROME.deadline(at_lunch, 4.5) == local("Europe/Rome", 2026, 3, 3, 9, 30)


@pytest.mark.parametrize(("zone", "friday", "monday"), [
    ("Europe/Rome", (2026, 3, 27), (2026, 3, 30)),       # spring forward on Sunday 29 March
    ("Europe/Rome", (2026, 10, 23), (2026, 10, 26)),     # fall back on Sunday 25 October
    ("America/New_York", (2026, 3, 6), (2026, 3, 9)),    # spring forward on Sunday 8 March
    ("America/New_York", (2026, 10, 30), (2026, 11, 2)),  # fall back on Sunday 1 November
])
def test_office_hours_follow_the_clock_across_daylight_saving_changes(zone, friday, monday):
    c = cal(zone, "09:00-18:00")
    start, stop = local(zone, *friday, 17), local(zone, *monday, 10)
    assert c.hours_between(start, stop) == 2.0
    assert c.deadline(start, 2) == stop
    assert c.deadline(start, 10) == local(zone, *monday, 18)


def test_a_round_the_clock_calendar_counts_the_real_length_of_a_daylight_saving_day():
    c = cal("Europe/Rome", "00:00-24:00", days=WEEKDAYS)
    assert c.hours_between(local("Europe/Rome", 2026, 3, 29), local("Europe/Rome", 2026, 3, 30)) == 23.0
    assert c.hours_between(local("Europe/Rome", 2026, 10, 25), local("Europe/Rome", 2026, 10, 26)) == 25.0
    ny = cal("America/New_York", "00:00-24:00", days=WEEKDAYS)
    assert ny.hours_between(local("America/New_York", 2026, 3, 7, 12), local("America/New_York", 2026, 3, 9)) == 35.0


def test_a_lead_at_the_daylight_saving_jump_counts_from_the_next_working_minute():
    # Sunday window 02:30-04:00 in New York: 02:30 does not exist on 8 March 2026, the clock jumps 02:00 -> 03:00
    c = cal("America/New_York", "02:30-04:00", days=("sun",))
    jump = utc(2026, 3, 8, 7)  # 03:00 EDT, the first minute after the jump
    assert c.next_working(utc(2026, 3, 8, 6, 30)) == jump
    assert c.hours_between(utc(2026, 3, 8, 6), utc(2026, 3, 8, 9)) == 1.0  # 03:00-04:00 EDT
    assert c.deadline(jump, 0.5) == utc(2026, 3, 8, 7, 30)
    # fall back: 01:00-02:00 happens twice on 1 November 2026, the window covers both passes
    fall = cal("America/New_York", "01:00-02:00", days=("sun",))
    assert fall.hours_between(utc(2026, 11, 1), utc(2026, 11, 1, 12)) == 2.0


def test_extra_closed_days_and_a_subdivision():
    c = cal("Europe/Rome", holiday_country="IT", closed=[dt.date(2026, 3, 3)])
    assert c.hours_between(local("Europe/Rome", 2026, 3, 2, 17), local("Europe/Rome", 2026, 3, 4, 10)) == 1.0
    assert c.closed_reason(dt.date(2026, 3, 3)) == "closed"
    bavaria = cal("Europe/Berlin", holiday_country="DE", holiday_subdivision="BY")
    assert bavaria.closed_reason(dt.date(2026, 1, 6))  # Epiphany is a holiday in Bavaria only
    assert cal("Europe/Berlin", holiday_country="DE").closed_reason(dt.date(2026, 1, 6)) is None


def test_vectors_match_the_scalar_answers():
    starts = [local("Europe/Rome", 2026, 12, 7, 17), local("Europe/Rome", 2026, 3, 27, 12, 30)]
    stops = [local("Europe/Rome", 2026, 12, 9, 10), local("Europe/Rome", 2026, 3, 30, 9, 15)]
    a, b = np.array([to_us(x) for x in starts]), np.array([to_us(x) for x in stops])
    got = ROME.durations_us(a, b) / US_PER_HOUR
    assert got.tolist() == [ROME.hours_between(x, y) for x, y in zip(starts, stops, strict=True)] == [2.0, 4.75]


def test_explanation_lists_the_windows_counted_and_the_closed_days():
    segs = ROME.segments(local("Europe/Rome", 2026, 12, 7, 17), local("Europe/Rome", 2026, 12, 9, 10))
    assert [(s.day.isoformat(), f"{s.start:%H:%M}", f"{s.end:%H:%M}", s.hours) for s in segs] == [
        ("2026-12-07", "17:00", "18:00", 1.0), ("2026-12-09", "09:00", "10:00", 1.0)]
    closed = ROME.closed_days(local("Europe/Rome", 2026, 12, 4, 17), local("Europe/Rome", 2026, 12, 9, 10))
    assert [(d.day.day, d.reason) for d in closed] == [
        (5, "no working hours on Saturdays"), (6, "no working hours on Sundays"), (8, "holiday: Immaculate Conception")]
    assert ROME.describe()[0] == "Mon-Fri: 09:00-13:00, 14:00-18:00"
    assert "Time zone: Europe/Rome" in ROME.describe()


# -- properties ------------------------------------------------------------------------------------------

instants = st.datetimes(min_value=dt.datetime(2025, 12, 1), max_value=dt.datetime(2027, 2, 1)).map(
    lambda d: d.replace(tzinfo=UTC))
CALENDARS = [ROME, NEW_YORK, cal("Australia/Sydney", "22:00-24:00, 00:00-02:00", days=WEEKDAYS)]


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(CALENDARS), instants, st.floats(min_value=0, max_value=200, allow_nan=False))
def test_the_deadline_is_exactly_h_business_hours_later(c, start, hours):
    end = c.deadline(start, hours)
    assert end >= start
    assert c.hours_between(start, end) == pytest.approx(hours, abs=1e-9)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(CALENDARS), instants, instants, instants)
def test_durations_add_up_over_a_split_point_and_are_never_negative(c, x, y, z):
    a, m, b = sorted((x, y, z))
    whole = c.hours_between(a, b)
    assert whole >= 0 and c.hours_between(b, a) == 0
    assert whole == pytest.approx(c.hours_between(a, m) + c.hours_between(m, b), abs=1e-9)


@settings(max_examples=80, deadline=None)
@given(st.datetimes(min_value=dt.datetime(2026, 12, 8), max_value=dt.datetime(2026, 12, 8, 23, 59)),
       st.datetimes(min_value=dt.datetime(2026, 12, 8), max_value=dt.datetime(2026, 12, 8, 23, 59)))
def test_no_time_passes_across_a_closed_period(x, y):
    from zoneinfo import ZoneInfo

    a, b = (v.replace(tzinfo=ZoneInfo("Europe/Rome")) for v in sorted((x, y)))
    assert ROME.hours_between(a, b) == 0.0  # Italy's 8 December


# -- configuration errors ---------------------------------------------------------------------------------

def _load(tmp_path: Path, sla: str) -> ConfigError:
    path = tmp_path / "marketops.yaml"
    path.write_text("name: Acme\nleads:\n  sla:\n" + sla, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    return err.value


@pytest.mark.parametrize(("sla", "line", "words"), [
    ("    teams:\n      - name: sales\n        hours: {mon: '', tue: ''}\n", 5, "team 'sales' has no working hours"),
    ("    teams:\n      - name: sales\n        timezone: Europe/Roma\n", 6, "unknown time zone 'Europe/Roma'"),
    ("    teams:\n      - name: sales\n        holiday_country: XX\n", 6, "no public holidays are known for country 'XX'"),
    ("    target_hours: 0\n", 4, "target_hours must be more than 0"),
    ("    teams:\n      - name: sales\n        target_hours: -4\n", 6, "target_hours must be more than 0"),
    ("    teams:\n      - name: sales\n        hours: {monday: '18:00-09:00'}\n", 6, "ends before it starts"),
    ("    teams:\n      - name: sales\n        hours: {mnday: '09:00-17:00'}\n", 6, "did you mean 'monday'"),
    ("    teams:\n      - name: sales\n        holiday_country: US\n        holiday_subdivision: ZZ\n", 5,
     "country US has no subdivision 'ZZ'"),
    ("    default_team: sals\n    teams:\n      - name: sales\n", 3, "did you mean 'sales'"),
    ("    near_breach: 1.5\n", 4, "near_breach is a share of the target between 0 and 1"),
])
def test_bad_calendars_fail_at_load_time_with_file_and_line(tmp_path, sla, line, words):
    e = _load(tmp_path, sla)
    assert words in str(e)
    assert e.location.file.endswith("marketops.yaml")
    assert e.location.line == line, str(e)


def test_a_good_calendar_loads(tmp_path):
    path = tmp_path / "marketops.yaml"
    path.write_text("name: Acme\ntimezone: Europe/Rome\nleads:\n  sla:\n    target_hours: 8\n    teams:\n"
                    "      - name: sales\n        holiday_country: it\n        hours:\n"
                    "          Monday: 09:00-13:00, 14:00-18:00\n          tue: [09:00-13:00, 14:00-18:00]\n"
                    "        closed: [2026-08-14]\n        escalate_to: boss@acme.test\n", encoding="utf-8")
    cfg = load_config(path).leads.sla
    team = cfg.team("SALES")
    assert team.holiday_country == "IT" and team.windows()[:3] == [[(540, 780), (840, 1080)]] * 2 + [[]]
    assert cfg.target_for(team) == 8.0 and team.closed == [dt.date(2026, 8, 14)]
    assert SpeedToLeadConfig().team("anyone").windows()[0] == [(540, 1020)]


def test_every_speed_to_lead_setting_is_documented():
    text = (Path(__file__).parent.parent / "docs" / "leads.md").read_text(encoding="utf-8")
    section = text[text.index("## Speed to lead"):]
    section = section[:section.index("\n## ", 1)] if "\n## " in section[1:] else section
    for model in (SpeedToLeadConfig, TeamCalendar):
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no help text"
            assert f"`{name}`" in section, f"{model.__name__}.{name} is missing from docs/leads.md"
