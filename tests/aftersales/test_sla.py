"""The SLA clock: business hours on China's working calendar (a public holiday, a swapped
working Saturday, 调休), pauses, time left, breaches; town or rural by distance."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from fleet.aftersales import sla
from fleet.aftersales.clock import Clock
from fleet.aftersales.models import Area, Priority, Symptom, Ticket, TicketSource, TicketState
from fleet.core.config import Settings

CN = ZoneInfo("Asia/Shanghai")
SETTINGS = Settings()


def at(day: str, hm: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{hm}").replace(tzinfo=CN)


def local(moment: datetime) -> str:
    return moment.astimezone(CN).strftime("%Y-%m-%d %H:%M")


def test_the_calendar_knows_holidays_and_swapped_working_weekends() -> None:
    clock = Clock(SETTINGS)
    assert clock.is_working_day(date(2026, 10, 9))  # a Friday
    assert clock.is_working_day(date(2026, 10, 10))  # a Saturday worked for National Day (调休)
    assert not clock.is_working_day(date(2026, 10, 11))  # an ordinary Sunday
    assert not clock.is_working_day(date(2026, 10, 1))  # National Day, a Thursday
    assert not clock.is_working_day(date(2026, 9, 25))  # Mid-autumn, a Friday


def test_four_business_hours_run_across_the_weekend_into_a_swapped_saturday() -> None:
    clock = Clock(SETTINGS)  # 08:30-17:30
    start = at("2026-10-09", "16:30")  # Friday: one hour left today
    due = clock.add(start, 4)
    assert local(due) == "2026-10-10 11:30"  # Saturday 10 October is a working day
    assert clock.between(start, due) == pytest.approx(4)
    # The next Friday has an ordinary weekend after it.
    assert local(clock.add(at("2026-10-16", "16:30"), 4)) == "2026-10-19 11:30"


def test_a_public_holiday_stops_the_clock_for_a_week() -> None:
    clock = Clock(SETTINGS)
    start = at("2026-09-30", "15:30")  # two hours left before the National Day week
    assert local(clock.add(start, 4)) == "2026-10-08 10:30"
    # 24 business hours for a rural ticket: 2 + 9 + 9 on 8 and 9 October, 4 on Saturday 10th.
    assert local(clock.add(start, 24)) == "2026-10-10 12:30"
    assert clock.between(at("2026-10-01", "09:00"), at("2026-10-07", "17:00")) == 0


def test_outside_business_hours_the_clock_starts_at_the_next_opening() -> None:
    clock = Clock(SETTINGS)
    assert local(clock.add(at("2026-11-03", "20:00"), 2)) == "2026-11-04 10:30"
    assert local(clock.add(at("2026-11-03", "06:00"), 1)) == "2026-11-03 09:30"


def test_days_added_by_hand_come_first_and_an_unknown_year_falls_back_to_weekdays() -> None:
    clock = Clock(
        Settings(
            service_extra_holidays=(date(2026, 11, 4),),
            service_extra_workdays=(date(2026, 11, 7),),
        )
    )
    assert not clock.is_working_day(date(2026, 11, 4))  # a Wednesday made a holiday
    assert clock.is_working_day(date(2026, 11, 7))  # a Saturday made a working day
    # chinese-calendar 1.11 knows years up to 2026; 2027's table comes with a newer release.
    assert clock.is_working_day(date(2027, 3, 1)) and not clock.is_working_day(date(2027, 3, 6))


def ticket(opened: datetime, area: Area = Area.town) -> Ticket:
    made = Ticket(
        terminal_id=1,
        branch_id=1,
        source=TicketSource.phone,
        symptom=Symptom.power,
        priority=Priority.normal,
        area=area,
        opened_at=opened,
    )
    sla.set_deadlines(made, Clock(SETTINGS), SETTINGS, opened)
    return made


def test_the_default_policy_restore_in_4_hours_in_town_24_in_rural_areas() -> None:
    town = ticket(at("2026-11-03", "09:00"))
    assert [local(d) for d in (town.respond_by, town.on_site_by, town.restore_by)] == [  # type: ignore[arg-type]
        "2026-11-03 11:00",
        "2026-11-03 12:00",
        "2026-11-03 13:00",
    ]
    rural = ticket(at("2026-11-03", "09:00"), Area.rural)
    assert local(rural.respond_by) == "2026-11-03 11:00"  # type: ignore[arg-type]
    assert local(rural.restore_by) == "2026-11-05 15:00"  # type: ignore[arg-type]


def test_a_pause_stops_the_clock_and_moves_the_deadlines_on() -> None:
    clock = Clock(SETTINGS)
    made = ticket(at("2026-11-03", "09:00"))  # restore by 13:00
    made.state = TicketState.awaiting_parts
    sla.pause(made, at("2026-11-03", "10:00"))  # 3 hours left when the parts are ordered
    later = at("2026-11-04", "10:00")
    assert sla.hours_left(made, clock, later) == 3  # frozen while paused
    assert sla.flag_breaches(made, later) == []  # past the deadline, but paused
    sla.resume(made, clock, later)  # 9 business hours paused (10:00 to 10:00 next day)
    made.state = TicketState.on_site
    assert made.paused_hours == pytest.approx(9)
    assert local(made.restore_by) == "2026-11-04 13:00"  # type: ignore[arg-type]
    assert sla.hours_left(made, clock, at("2026-11-04", "12:00")) == 1
    assert sla.hours_left(made, clock, at("2026-11-04", "14:00")) == -1
    assert sla.flag_breaches(made, at("2026-11-04", "14:00")) == ["response", "on_site", "restore"]


def test_a_ticket_restored_in_time_breaches_nothing() -> None:
    made = ticket(at("2026-11-03", "09:00"))
    made.responded_at = at("2026-11-03", "09:30")
    made.on_site_at = at("2026-11-03", "11:00")
    made.restored_at = at("2026-11-03", "12:45")
    assert sla.flag_breaches(made, at("2026-11-05", "09:00")) == []
    made.restored_at = at("2026-11-03", "13:05")
    assert sla.flag_breaches(made, at("2026-11-05", "09:00")) == ["restore"]


def test_town_is_within_5_km_of_a_city_or_county_branch(engine: object) -> None:
    from fleet.core.db import session_scope
    from tests import factories

    with session_scope() as session:
        factories.branch(session, "LY", level="city", lat=35.05, lng=118.35)
        factories.branch(session, "O1", "LY", level="outlet", lat=35.40, lng=118.35)
        near = factories.merchant(session, "M1", "O1", lat=35.08, lng=118.35)  # ~3.3 km
        far = factories.merchant(session, "M2", "O1", lat=35.40, lng=118.35)  # at an outlet only
        assert sla.area_of(session, near, SETTINGS) is Area.town
        assert sla.area_of(session, far, SETTINGS) is Area.rural
        assert sla.area_of(session, None, SETTINGS) is Area.town


def test_a_policy_missing_from_the_settings_is_a_clear_error() -> None:
    from fleet.core.errors import Invalid

    with pytest.raises(Invalid, match="no SLA policy for rural:high"):
        sla.policy(Settings(service_sla={"town:high": (1, 2, 4)}), Area.rural, Priority.high)


def test_a_deadline_in_a_year_the_calendar_does_not_know_follows_the_weekday_rule(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """chinese-calendar's data ends with 2026: a ticket opened on the last afternoon of 2026
    runs into 2027 by the weekday rule (1 January off, then the weekend), with a warning."""
    from fleet.aftersales import clock as clock_module

    clock_module._warned.discard(2027)
    clock = Clock(SETTINGS)
    start = at("2026-12-31", "16:30")  # Thursday: one hour left in 2026
    with caplog.at_level("WARNING", logger="fleet.aftersales.clock"):
        due = clock.add(start, 4)
        assert local(due) == "2027-01-04 11:30"  # Fri 1 Jan off, Sat-Sun, Monday 3 h
        assert clock.between(start, due) == 4.0
        clock.add(start, 40)  # the same year again: no second warning
    warned = [r.getMessage() for r in caplog.records if "no data for 2027" in r.getMessage()]
    assert len(warned) == 1 and "FLEET_SERVICE_EXTRA_HOLIDAYS" in warned[0]
    assert not clock.is_working_day(date(2027, 5, 2)) and not clock.is_working_day(
        date(2027, 10, 1)
    )
    assert clock.is_working_day(date(2027, 2, 8))  # a Monday (the package knows no Spring Festival)
    # An admin adds the day the State Council announces: it comes first.
    extra = Clock(Settings(service_extra_holidays=(date(2027, 1, 4),)))
    assert local(extra.add(start, 4)) == "2027-01-05 11:30"
