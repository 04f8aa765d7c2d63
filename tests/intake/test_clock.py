"""The one rule of days left (intake.clock): calendar days on the department's clock, or its
business days, and the same rule read the other way round by the deadline sweep."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from intake.clock import Countdown, DayCount, countdown, days_left, due_before, reached_at

NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
CALENDAR = DayCount("America/New_York")
# Monday 9 March 2026 is a department holiday.
HOLIDAY = date(2026, 3, 9)
BUSINESS = DayCount("America/New_York", business_days=True, holidays=frozenset({HOLIDAY}))


def ny(month, day, hour=10, minute=0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=NEW_YORK)


def test_days_are_calendar_days_in_the_departments_zone_not_24_hour_blocks():
    due = ny(3, 9, 10)  # Monday 10:00, the day after the clocks went forward

    assert days_left(due, ny(3, 8, 23, 30), CALENDAR) == 1  # 10½ hours before, the day before
    assert days_left(due, ny(3, 9, 0, 5), CALENDAR) == 0  # shortly after midnight
    assert days_left(due, ny(3, 9, 23, 59), CALENDAR) == 0  # hours after its time
    assert days_left(due, ny(3, 10, 0, 0), CALENDAR) == -1  # the day after
    assert days_left(due, ny(3, 11, 13), CALENDAR) == -2  # 2 days and 3 hours after
    assert days_left(due, ny(3, 6, 11), CALENDAR) == 3  # 2 days 22 hours, across the change


def test_midnight_is_the_departments_midnight_not_utcs():
    due = ny(3, 9, 10)
    # 23:30 in New York is already Monday in UTC, but not in the department.
    late_sunday = ny(3, 8, 23, 30)

    assert late_sunday.astimezone(UTC).date() == date(2026, 3, 9)
    assert days_left(due, late_sunday, CALENDAR) == 1
    assert days_left(due, late_sunday, DayCount("UTC")) == 0


def test_a_department_in_another_zone_counts_on_its_own_clock():
    # Due Monday 22:00 in Los Angeles: already Tuesday 01:00 in New York.
    due = datetime(2026, 3, 9, 22, tzinfo=LOS_ANGELES)
    evening = datetime(2026, 3, 9, 20, tzinfo=LOS_ANGELES)  # Monday 23:00 in New York

    assert countdown(due, evening, DayCount("America/Los_Angeles")) == Countdown(
        date(2026, 3, 9), 0
    )
    assert days_left(due, evening, CALENDAR) == 1


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (ny(3, 5), 3),  # Thursday: Friday, (Monday is a holiday), Tuesday, Wednesday
        (ny(3, 6), 2),  # Friday
        (ny(3, 7), 2),  # Saturday
        (ny(3, 8), 2),  # Sunday
        (ny(3, 9), 2),  # the holiday
        (ny(3, 10), 1),  # Tuesday, the day before
        (ny(3, 11, 23), 0),  # Wednesday, the due day
        (ny(3, 12), -1),  # Thursday, the day after
        (ny(3, 13), -2),  # Friday
        (ny(3, 14), -2),  # Saturday: still two business days late
        (ny(3, 16), -3),  # Monday
    ],
)
def test_business_days_skip_the_weekend_and_the_departments_holidays(now, expected):
    due = ny(3, 11, 10)  # Wednesday

    assert days_left(due, now, BUSINESS) == expected


def test_a_due_date_on_a_weekend_is_due_that_day_and_overdue_the_next():
    due = ny(3, 14, 10)  # Saturday

    assert days_left(due, ny(3, 12), BUSINESS) == 2  # Thursday: Friday and the due day
    assert days_left(due, ny(3, 13), BUSINESS) == 1  # Friday
    assert days_left(due, ny(3, 14), BUSINESS) == 0
    assert days_left(due, ny(3, 15), BUSINESS) == -1  # Sunday
    assert days_left(due, ny(3, 16), BUSINESS) == -1  # Monday: one business day late
    assert days_left(due, ny(3, 17), BUSINESS) == -2


@pytest.mark.parametrize(
    ("days", "business", "label", "urgency"),
    [
        (5, False, "5 days left", "on-track"),
        (3, False, "3 days left", "on-track"),
        (2, False, "2 days left", "due-soon"),
        (1, True, "1 business day left", "due-soon"),
        (0, False, "Due today", "due-soon"),
        (0, True, "Due today", "due-soon"),
        (-1, False, "Overdue by 1 day", "overdue"),
        (-3, True, "Overdue by 3 business days", "overdue"),
    ],
)
def test_what_a_countdown_says(days, business, label, urgency):
    shown = Countdown(date(2026, 3, 9), days, business)

    assert (shown.label, shown.urgency, shown.overdue) == (label, urgency, days < 0)


def instants():
    """Every three hours for three weeks around the due dates below."""
    start = datetime(2026, 2, 27, 1, tzinfo=UTC)
    return [start + timedelta(hours=3 * n) for n in range(8 * 21)]


@pytest.mark.parametrize("count", [CALENDAR, BUSINESS, DayCount("America/Los_Angeles")])
@pytest.mark.parametrize("days", [-2, -1, 0, 1, 2, 3])
def test_the_sweeps_questions_agree_with_the_pages_at_every_instant(count, days):
    # Due dates on every day of the week, at hours on both sides of midnight in UTC.
    dues = [ny(3, day, hour) for day in range(6, 15) for hour in (0, 10, 21)]

    thresholds = {due: reached_at(due, days, count) for due in dues}
    for now in instants():
        cutoff = due_before(now, days, count)
        for due in dues:
            shown = days_left(due, now, count) <= days
            assert shown == (due < cutoff), (due, now)
            assert shown == (now >= thresholds[due]), (due, now)
