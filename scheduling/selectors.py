"""Reads of informational calls and appointments, scoped to who asks."""

import functools
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import groupby
from zoneinfo import ZoneInfo

from django.db.models import Count, Prefetch
from django.db.models.functions import TruncWeek
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.models import User
from intake.models import Department
from intake.zones import COMMON_ZONES, zone_label  # noqa: F401 (the pages' menu)
from scheduling.models import HOLDS_TIME, Appointment, AppointmentChange, Booking
from scheduling.slots import Slot, booking_window, slots_open


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def zone_is_known(name: str) -> bool:
    return name in _zone_names()


def departments_bookable():
    """Active departments with at least one active coordinator."""
    return (
        Department.objects.filter(active=True, coordinators__active=True)
        .distinct()
        .order_by("name")
    )


def department_bookable_get(*, slug: str) -> Department:
    """An active department; one without coordinators simply has no open times."""
    return get_object_or_404(Department.objects.filter(active=True), slug=slug)


def _by_day(slots: list[Slot], zone: ZoneInfo) -> list[tuple[date, list[Slot]]]:
    """Open slots grouped by the family's calendar day."""
    return [
        (day, list(day_slots))
        for day, day_slots in groupby(
            slots, key=lambda slot: slot.starts_at.astimezone(zone).date()
        )
    ]


def slots_on_days(
    *,
    department: Department,
    zone: ZoneInfo,
    now: datetime,
    first_day: date,
    days: int = 7,
    ignore_booking_id: int | None = None,
) -> list[tuple[date, list[Slot]]]:
    """Open slots on ``days`` days of the family's calendar from ``first_day``, by day. Only
    the department's days those cover are computed (one more at most, where the zones
    differ)."""
    start = datetime.combine(first_day, time.min, tzinfo=zone)
    end = datetime.combine(first_day + timedelta(days=days), time.min, tzinfo=zone)
    department_zone = ZoneInfo(department.time_zone)
    slots = slots_open(
        department=department,
        now=now,
        first_day=start.astimezone(department_zone).date(),
        last_day=(end - timedelta(microseconds=1)).astimezone(department_zone).date(),
        ignore_booking_id=ignore_booking_id,
    )
    return _by_day([slot for slot in slots if start <= slot.starts_at < end], zone)


@dataclass(frozen=True)
class Week:
    """One week of open times, Monday to Sunday on the family's calendar."""

    monday: date
    days: list[tuple[date, list[Slot]]]
    previous: date | None  # None: the week holds today
    next: date | None  # None: the week holds the horizon's last day
    none_open: bool = False  # no time is open at all, up to the horizon

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def slots_week(
    *,
    department: Department,
    zone: ZoneInfo,
    now: datetime,
    week: date | None = None,
    ignore_booking_id: int | None = None,
) -> Week:
    """The open times of one week: the week of ``week`` (kept between this week and the
    horizon's), or else the first week holding an open time. Only that week's days are
    computed; looking for the first open week computes one week after another."""
    first_monday = monday_of(now.astimezone(zone).date())
    last_monday = monday_of(booking_window(department, now)[1].astimezone(zone).date())
    monday = min(max(monday_of(week), first_monday), last_monday) if week else first_monday
    while True:
        days = slots_on_days(
            department=department,
            zone=zone,
            now=now,
            first_day=monday,
            ignore_booking_id=ignore_booking_id,
        )
        if days or week or monday >= last_monday:
            break
        monday += timedelta(days=7)
    if not days and not week:
        return Week(first_monday, [], None, None, none_open=True)
    return Week(
        monday=monday,
        days=days,
        previous=monday - timedelta(days=7) if monday > first_monday else None,
        next=monday + timedelta(days=7) if monday < last_monday else None,
    )


def bookings_for_family(*, user: User):
    if not user.is_family:
        return Booking.objects.none()
    return (
        Booking.objects.filter(family=user)
        .exclude(status=Booking.Status.MOVED)
        .select_related("department")
        .order_by("-starts_at")
    )


def booking_get_for_family(*, user: User, public_id) -> Booking:
    """The family's own call; anyone else's (or none) is a 404."""
    return get_object_or_404(bookings_for_family(user=user), public_id=public_id)


def appointments_for_family(*, user: User):
    if not user.is_family:
        return Appointment.objects.none()
    return (
        Appointment.objects.filter(family=user)
        .select_related("department", "location")
        .order_by("-starts_at")
    )


def appointments_page_for_family(*, user: User) -> list[Appointment]:
    """The family's appointments for its page, each with ``moved_from``: the time it had
    before it was last moved to another time (None if it never was). Two queries."""
    moves = AppointmentChange.objects.filter(kind=AppointmentChange.Kind.MOVED).order_by(
        "created_at"
    )
    appointments = list(
        appointments_for_family(user=user).prefetch_related(
            Prefetch("changes", queryset=moves, to_attr="moves")
        )
    )
    for appointment in appointments:
        times = [datetime.fromisoformat(move.before["starts_at"]) for move in appointment.moves]
        earlier = [t for t in times if t != appointment.starts_at]
        appointment.moved_from = earlier[-1] if earlier else None
    return appointments


def appointment_get_for_family(*, user: User, public_id) -> Appointment:
    return get_object_or_404(appointments_for_family(user=user), public_id=public_id)


def booking_newest(*, booking: Booking) -> Booking:
    """The call as it is now: a moved call's latest time (links in older e-mails use this)."""
    while booking.status == Booking.Status.MOVED:
        following = Booking.objects.select_related("department").filter(rescheduled_from=booking)
        newer = following.first()
        if newer is None:
            break
        booking = newer
    return booking


def booking_get_by_session(*, public_id: str | None) -> Booking:
    """The booking this browser just made (its id is kept in the session only)."""
    if not public_id:
        raise Http404
    return get_object_or_404(Booking.objects.select_related("department"), public_id=public_id)


def _held_calls(start: datetime, end: datetime) -> list[Booking]:
    """The calls that hold their time from ``start`` to ``end``, the earliest first, with
    their department and coordinator: one query on the (status, start) index."""
    return list(
        Booking.objects.filter(status__in=HOLDS_TIME, starts_at__gte=start, starts_at__lt=end)
        .select_related("department", "coordinator")
        .order_by("starts_at")
    )


def calls_today(*, now: datetime, zone: ZoneInfo) -> list[Booking]:
    """Today's calls (the day of ``now`` in ``zone``) that hold their time (the dashboard)."""
    day_start = datetime.combine(now.astimezone(zone).date(), datetime.min.time(), tzinfo=zone)
    return _held_calls(day_start, day_start + timedelta(days=1))


def calls_overview(*, now: datetime, zone: ZoneInfo) -> dict:
    """The coordinators' overview: today's and this week's calls per coordinator, recent
    no-shows, and bookings per department per week. A fixed number of queries."""
    today = now.astimezone(zone).date()
    week_start = today - timedelta(days=today.weekday())
    day_start = datetime.combine(today, datetime.min.time(), tzinfo=zone)
    monday = datetime.combine(week_start, datetime.min.time(), tzinfo=zone)
    this_week = _held_calls(monday, monday + timedelta(days=7))
    today_calls = [b for b in this_week if day_start <= b.starts_at < day_start + timedelta(days=1)]
    today_ids = {b.pk for b in today_calls}
    per_coordinator: dict[User, list[int]] = {}
    for booking in this_week:
        counts = per_coordinator.setdefault(booking.coordinator, [0, 0])
        counts[0] += booking.pk in today_ids
        counts[1] += 1
    no_shows = list(
        Booking.objects.filter(
            status=Booking.Status.NO_SHOW, starts_at__gte=now - timedelta(days=30)
        )
        .select_related("department", "coordinator")
        .order_by("-starts_at")
    )
    weekly = (
        Booking.objects.exclude(status=Booking.Status.MOVED)
        .filter(
            starts_at__gte=monday - timedelta(weeks=7), starts_at__lt=monday + timedelta(weeks=1)
        )
        .annotate(week=TruncWeek("starts_at", tzinfo=zone))
        .values("week", "department__name")
        .annotate(calls=Count("pk"))
        .order_by("-week", "department__name")
    )
    return {
        "today": today,
        "today_calls": today_calls,
        "week_calls": this_week,
        "per_coordinator": sorted(
            (
                (user, today_count, week_count)
                for user, (today_count, week_count) in per_coordinator.items()
            ),
            key=lambda row: row[0].email,
        ),
        "no_shows": no_shows,
        "weekly": list(weekly),
    }
