"""Days left to a due date: the one rule behind every page, e-mail and alert that counts them.

Days are calendar days on the department's clock. A review due on Monday (in the
department's time zone) is "due today" all that Monday whatever the hour it was paid, has
"1 day left" on the Sunday and is "overdue by 1 day" on the Tuesday. A department set to
count business days counts only weekdays that are not its holidays: "1 business day left"
on the Friday before a Monday due date, "overdue by 1 business day" from the day after the
due date to the next business day. The due day itself always counts, and the day after it
is always overdue, so "due today" falls on the due date's day in both ways of counting.

The family's status page, the reviewer's pages and the coordinators' dashboard call
``countdown``; the deadline sweep and the overdue counts ask the same question the other way
round (``due_before``: which due dates have at most N days left now; ``reached_at``: from
when a due date has at most N days left), so an alert goes out, and a row turns overdue, at
the moment the pages change. This module reads no table: callers pass the holidays
(``intake.selectors.day_counts_for`` fetches them once per page).
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils.translation import gettext, ngettext

# A review is "due soon" with this many days left or fewer: the reviewer's badge turns amber
# and the panel gets its reminder.
DUE_SOON_DAYS = 2

# How far a count walks before giving up (a holiday calendar closing a whole year).
_LONGEST_WALK = 400


@dataclass(frozen=True)
class DayCount:
    """How a department counts days: its time zone and, when it counts business days, its
    holidays (the whole-department closures between the dates its caller asked for)."""

    time_zone: str
    business_days: bool = False
    holidays: frozenset[date] = frozenset()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def day_of(self, moment: datetime) -> date:
        """The date ``moment`` falls on, on the department's clock."""
        return moment.astimezone(self.zone).date()

    def start_of(self, day: date) -> datetime:
        """The first instant of ``day`` on the department's clock, in UTC."""
        return datetime.combine(day, time.min, tzinfo=self.zone).astimezone(UTC)

    def counts(self, day: date) -> bool:
        """Whether ``day`` is one the department counts (every day, or a business day)."""
        return not self.business_days or (day.weekday() < 5 and day not in self.holidays)


def _after(first: date, last: date) -> Iterator[date]:
    """The days after ``first`` up to and including ``last``."""
    for offset in range(1, (last - first).days + 1):
        yield first + timedelta(days=offset)


def days_between(due_day: date, today: date, count: DayCount) -> int:
    """Days left from ``today`` to ``due_day``: 0 on the due day; before it, the counted days
    after today up to the due day (the due day always counts); after it, minus the counted
    days since the due day, at least 1."""
    if today <= due_day:
        return sum(1 for day in _after(today, due_day) if day == due_day or count.counts(day))
    return -max(1, sum(1 for day in _after(due_day, today) if count.counts(day)))


def days_left(due_at: datetime, now: datetime, count: DayCount) -> int:
    """Days left at ``now`` to ``due_at`` (negative once overdue), on the department's
    clock: the one rule."""
    return days_between(count.day_of(due_at), count.day_of(now), count)


@dataclass(frozen=True)
class Countdown:
    """What a page says about a due date: the day it falls on (the department's), the days
    left (negative: overdue), and in which days they are counted."""

    due_date: date
    days_left: int
    business_days: bool = False

    @property
    def overdue(self) -> bool:
        return self.days_left < 0

    @property
    def overdue_days(self) -> int:
        return max(0, -self.days_left)

    @property
    def urgency(self) -> str:
        """One of "overdue", "due-soon" (``DUE_SOON_DAYS`` or fewer left) or "on-track"."""
        if self.overdue:
            return "overdue"
        return "due-soon" if self.days_left <= DUE_SOON_DAYS else "on-track"

    @property
    def label(self) -> str:
        """What the pages say, e.g. "Due today", "3 days left", "Overdue by 1 business day"."""
        if self.days_left == 0:
            return gettext("Due today")
        days = abs(self.days_left)
        if self.days_left > 0 and self.business_days:
            text = ngettext("%(days)s business day left", "%(days)s business days left", days)
        elif self.days_left > 0:
            text = ngettext("%(days)s day left", "%(days)s days left", days)
        elif self.business_days:
            text = ngettext(
                "Overdue by %(days)s business day", "Overdue by %(days)s business days", days
            )
        else:
            text = ngettext("Overdue by %(days)s day", "Overdue by %(days)s days", days)
        return text % {"days": days}

    def __str__(self) -> str:
        return self.label


def countdown(due_at: datetime, now: datetime, count: DayCount) -> Countdown:
    return Countdown(count.day_of(due_at), days_left(due_at, now, count), count.business_days)


def due_before(now: datetime, days: int, count: DayCount) -> datetime:
    """The instant C such that a due date has at most ``days`` days left at ``now`` exactly
    when it is earlier than C: the cut-off of a query on the due dates' index. C is the
    start of the first due day that would have more left."""
    today = count.day_of(now)
    if days < 0:
        # The latest due day with at most ``days`` left lies before today; C starts the next.
        day = today - timedelta(days=1)
        for _ in range(_LONGEST_WALK):
            if days_between(day, today, count) <= days:
                return count.start_of(day + timedelta(days=1))
            day -= timedelta(days=1)
        return count.start_of(day)
    day = today + timedelta(days=1)
    for _ in range(_LONGEST_WALK):
        if days_between(day, today, count) > days:
            return count.start_of(day)
        day += timedelta(days=1)
    return count.start_of(day)


def reached_at(due_at: datetime, days: int, count: DayCount) -> datetime:
    """The first instant at which ``due_at`` has at most ``days`` days left: when the pages
    first say so, and when the sweep's alert for it is due."""
    due_day = count.day_of(due_at)
    if days < 0:
        day = due_day + timedelta(days=1)
        for _ in range(_LONGEST_WALK):
            if days_between(due_day, day, count) <= days:
                break
            day += timedelta(days=1)
        return count.start_of(day)
    # Walk back from the due day while the day before still has at most ``days`` left.
    day = due_day
    for _ in range(_LONGEST_WALK):
        if days_between(due_day, day - timedelta(days=1), count) > days:
            break
        day -= timedelta(days=1)
    return count.start_of(day)
