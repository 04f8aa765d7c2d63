"""Which call times a family may book.

A slot is offered when at least one of the department's coordinators is free for the whole
call: inside their weekly hours (or extra hours) for that date, not on a closed date, clear
of their other calls by the department's buffer, under their daily cap, and between the
minimum notice and the booking horizon. Hours are wall-clock times in the department's time
zone; each day's windows are turned into UTC on their own date, so 9:00 is 9:00 on both
sides of a daylight-saving change, and slot lengths are always real elapsed minutes.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q

from intake.models import Department
from scheduling.models import HOLDS_TIME, AvailabilityException, Booking, Coordinator

Window = tuple[time, time]


@dataclass(frozen=True)
class Slot:
    starts_at: datetime  # aware, UTC
    ends_at: datetime
    coordinator_ids: tuple[int, ...]  # users free for this call, in no particular order


def booking_window(department: Department, now: datetime) -> tuple[datetime, datetime]:
    """The earliest and latest start a family may book now."""
    return (
        now + timedelta(hours=department.minimum_notice_hours),
        now + timedelta(days=department.booking_horizon_days),
    )


def slots_open(
    *,
    department: Department,
    now: datetime,
    first_day: date | None = None,
    last_day: date | None = None,
    ignore_booking_id: int | None = None,
) -> list[Slot]:
    """Open slots between two dates of the department's calendar (default: all bookable
    ones). ``ignore_booking_id`` treats that booking as free (the one being moved)."""
    zone = ZoneInfo(department.time_zone)
    earliest, latest = booking_window(department, now)
    first = max(first_day or date.min, earliest.astimezone(zone).date())
    last = min(last_day or date.max, latest.astimezone(zone).date())
    if first > last:
        return []
    coordinators = list(
        Coordinator.objects.filter(department=department, active=True).prefetch_related(
            "weekly_hours"
        )
    )
    closures = _exceptions_by_date(department, coordinators, first, last)
    length = timedelta(minutes=department.call_length_minutes)
    buffer = timedelta(minutes=department.buffer_minutes)
    held = _held_times(coordinators, zone, first, last, ignore_booking_id, buffer)
    free: dict[datetime, list[int]] = defaultdict(list)
    day = first
    while day <= last:
        for coordinator in coordinators:
            calls = held[coordinator.user_id]
            if calls.per_day[day] >= department.max_calls_per_day:
                continue
            near = calls.near.get(day, ())
            for start in _starts(day, _windows(day, coordinator, closures), zone, length, buffer):
                end = start + length
                if not earliest <= start <= latest:
                    continue
                if any(s - buffer < end and start < e + buffer for s, e in near):
                    continue
                free[start].append(coordinator.user_id)
        day += timedelta(days=1)
    return [Slot(start, start + length, tuple(ids)) for start, ids in sorted(free.items())]


def slot_at(
    *,
    department: Department,
    starts_at: datetime,
    now: datetime,
    ignore_booking_id: int | None = None,
) -> Slot | None:
    """The open slot starting exactly at ``starts_at``, or None."""
    day = starts_at.astimezone(ZoneInfo(department.time_zone)).date()
    for slot in slots_open(
        department=department,
        now=now,
        first_day=day,
        last_day=day,
        ignore_booking_id=ignore_booking_id,
    ):
        if slot.starts_at == starts_at:
            return slot
    return None


@dataclass
class _Held:
    """One coordinator's calls around the dates asked for, sorted once: how many start on
    each day (the daily cap), and which are within reach of each day's starts (the buffer).
    Each day then looks only at its own calls, so the cost grows with days plus calls, not
    with days times calls."""

    per_day: Counter = field(default_factory=Counter)
    near: dict[date, list[tuple[datetime, datetime]]] = field(
        default_factory=lambda: defaultdict(list)
    )


def _held_times(coordinators, zone, first, last, ignore_booking_id, buffer) -> dict[int, _Held]:
    """Every call holding each coordinator's time around those dates, in any department."""
    low = datetime.combine(first, time.min, tzinfo=zone) - timedelta(days=1)
    high = datetime.combine(last, time.max, tzinfo=zone) + timedelta(days=1)
    calls = Booking.objects.filter(
        coordinator__in=[c.user_id for c in coordinators],
        status__in=HOLDS_TIME,
        starts_at__lt=high,
        ends_at__gt=low,
    ).exclude(pk=ignore_booking_id)
    held: dict[int, _Held] = defaultdict(_Held)
    for user_id, start, end in calls.values_list("coordinator_id", "starts_at", "ends_at"):
        calls_of = held[user_id]
        calls_of.per_day[start.astimezone(zone).date()] += 1
        # A day's starts and ends lie within that day, so a call matters to the days its
        # time plus the buffer on each side touches (two at most, around midnight).
        day = (start - buffer).astimezone(zone).date()
        while day <= (end + buffer).astimezone(zone).date():
            calls_of.near[day].append((start, end))
            day += timedelta(days=1)
    return held


def _exceptions_by_date(department, coordinators, first, last):
    """This department's exceptions, and the days off its coordinators took in any other
    department (a person who is off is off for every department they cover), by date."""
    exceptions = AvailabilityException.objects.filter(
        Q(department=department)
        | Q(
            kind=AvailabilityException.Kind.CLOSED,
            coordinator__user__in=[c.user_id for c in coordinators],
        ),
        date__range=(first, last),
    ).select_related("coordinator")
    by_date: dict[date, list[AvailabilityException]] = defaultdict(list)
    for exception in exceptions:
        by_date[exception.date].append(exception)
    return by_date


def _windows(day: date, coordinator: Coordinator, closures) -> list[Window]:
    """The coordinator's hours that day: weekly hours, minus closed times, plus extra hours.
    ``closures`` are the exceptions by date."""
    todays = closures.get(day, ())
    closed = [
        e
        for e in todays
        if e.kind == AvailabilityException.Kind.CLOSED
        and (
            (e.coordinator is None and e.department_id == coordinator.department_id)
            or (e.coordinator is not None and e.coordinator.user_id == coordinator.user_id)
        )
    ]
    windows = [
        (hours.start_time, hours.end_time)
        for hours in coordinator.weekly_hours.all()
        if hours.weekday == day.weekday()
    ]
    for exception in closed:
        windows = [part for window in windows for part in _subtract(window, exception.hours())]
    windows += [
        e.hours()
        for e in todays
        if e.kind == AvailabilityException.Kind.EXTRA and e.coordinator_id == coordinator.pk
    ]
    return windows


def _subtract(window: Window, cut: Window) -> list[Window]:
    start, end = window
    cut_start, cut_end = cut
    if cut_end <= start or cut_start >= end:
        return [window]
    return [part for part in ((start, cut_start), (cut_end, end)) if part[0] < part[1]]


def _starts(day, windows, zone, length, buffer) -> set[datetime]:
    """Call starts that fit in the windows, one every call length plus buffer."""
    starts = set()
    for window_start, window_end in windows:
        start = _utc(day, window_start, zone)
        end = _utc(day, window_end, zone)
        while start + length <= end:
            starts.add(start)
            start += length + buffer
    return starts


def _utc(day: date, wall: time, zone: ZoneInfo) -> datetime:
    # A wall time that does not exist (the skipped hour in spring) is read with the offset
    # before the change, as zoneinfo does with fold=0; the result is a real instant either way.
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)
