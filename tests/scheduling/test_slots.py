from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError, transaction

from accounts.models import Role
from scheduling.models import AvailabilityException, Booking
from scheduling.services import SlotTaken
from scheduling.slots import slot_at, slots_open
from tests.factories import staff_user
from tests.scheduling.conftest import DETAILS, NOW, add_coordinator, book, ny

pytestmark = pytest.mark.django_db


def starts(department, day, now=NOW):
    return [
        slot.starts_at
        for slot in slots_open(department=department, now=now, first_day=day, last_day=day)
    ]


def test_a_morning_is_cut_into_calls_with_the_buffer_between_them(department, call_coordinator):
    # 30-minute calls 10 minutes apart, 9:00–12:00: 9:00, 9:40, 10:20, 11:00 (11:40 ends late).
    assert starts(department, datetime(2026, 11, 18).date()) == [
        ny(2026, 11, 18, 9),
        ny(2026, 11, 18, 9, 40),
        ny(2026, 11, 18, 10, 20),
        ny(2026, 11, 18, 11),
    ]


def test_nothing_is_offered_inside_the_minimum_notice(department, call_coordinator):
    # Monday 8:00 now; 24 hours' notice leaves Tuesday from 8:00 on: all of Tuesday's morning.
    tuesday = datetime(2026, 11, 17).date()
    assert starts(department, tuesday)[0] == ny(2026, 11, 17, 9)
    late_now = ny(2026, 11, 16, 10, 30)

    assert starts(department, tuesday, now=late_now) == [ny(2026, 11, 17, 11)]
    assert starts(department, datetime(2026, 11, 16).date(), now=late_now) == []


def test_nothing_is_offered_past_the_horizon(department, call_coordinator):
    every = slots_open(department=department, now=NOW)

    # 30 days from Monday 8:00 is Wednesday 16 December 8:00: its 9:00 is a minute too far.
    assert every[-1].starts_at == ny(2026, 12, 15, 11)
    assert starts(department, datetime(2026, 12, 16).date()) == []


def test_weekends_have_no_hours(department, call_coordinator):
    assert starts(department, datetime(2026, 11, 21).date()) == []


def test_a_department_holiday_closes_the_whole_day(department, call_coordinator):
    thanksgiving = datetime(2026, 11, 26).date()
    AvailabilityException.objects.create(
        department=department, date=thanksgiving, note="Thanksgiving"
    )

    assert starts(department, thanksgiving) == []
    assert starts(department, datetime(2026, 11, 25).date())


def test_a_coordinators_partial_day_off_removes_only_those_hours(department, call_coordinator):
    day = datetime(2026, 11, 18).date()
    AvailabilityException.objects.create(
        department=department,
        coordinator=call_coordinator,
        date=day,
        start_time=time(9),
        end_time=time(10, 30),
    )

    assert starts(department, day) == [ny(2026, 11, 18, 10, 30), ny(2026, 11, 18, 11, 10)]


def test_extra_hours_open_a_saturday(department, call_coordinator):
    saturday = datetime(2026, 11, 21).date()
    AvailabilityException.objects.create(
        department=department,
        coordinator=call_coordinator,
        date=saturday,
        kind=AvailabilityException.Kind.EXTRA,
        start_time=time(10),
        end_time=time(11),
    )

    assert starts(department, saturday) == [ny(2026, 11, 21, 10)]


def test_a_booking_takes_its_time_and_the_buffer_around_it(
    frozen_now, department, call_coordinator
):
    book(department, ny(2026, 11, 18, 9, 40))

    # 9:00 ends at 9:30, only 10 minutes before 9:40: still fine; 10:20 starts 10 after 10:10.
    assert starts(department, datetime(2026, 11, 18).date()) == [
        ny(2026, 11, 18, 9),
        ny(2026, 11, 18, 10, 20),
        ny(2026, 11, 18, 11),
    ]


def test_a_call_in_another_department_blocks_the_same_coordinator(
    frozen_now, department, call_coordinator, coordinator
):
    from tests.factories import DepartmentFactory

    cardiology = DepartmentFactory(name="Cardiology", slug="cardiology", call_length_minutes=30)
    add_coordinator(cardiology, coordinator)
    book(cardiology, ny(2026, 11, 18, 9))

    assert ny(2026, 11, 18, 9) not in starts(department, datetime(2026, 11, 18).date())


def test_the_daily_cap_stops_offering_a_coordinator(frozen_now, department, call_coordinator):
    department.max_calls_per_day = 2
    department.save()
    book(department, ny(2026, 11, 18, 9))
    book(department, ny(2026, 11, 18, 10, 20))

    assert starts(department, datetime(2026, 11, 18).date()) == []
    assert starts(department, datetime(2026, 11, 19).date())


def test_a_cancelled_call_frees_its_time(frozen_now, department, call_coordinator):
    from scheduling.services import booking_cancel

    call = book(department, ny(2026, 11, 18, 9))
    assert ny(2026, 11, 18, 9) not in starts(department, datetime(2026, 11, 18).date())

    booking_cancel(booking=call)

    assert ny(2026, 11, 18, 9) in starts(department, datetime(2026, 11, 18).date())


def test_a_moved_call_frees_its_old_time_and_holds_the_new_one(
    frozen_now, department, call_coordinator
):
    from scheduling.services import booking_reschedule

    call = book(department, ny(2026, 11, 18, 9))

    booking_reschedule(booking=call, starts_at=ny(2026, 11, 19, 9, 40))

    assert ny(2026, 11, 18, 9) in starts(department, datetime(2026, 11, 18).date())
    assert starts(department, datetime(2026, 11, 19).date()) == [
        ny(2026, 11, 19, 9),
        ny(2026, 11, 19, 10, 20),
        ny(2026, 11, 19, 11),
    ]
    # The new time still counts for the daily cap and is refused to a second family.
    with pytest.raises(SlotTaken):
        book(department, ny(2026, 11, 19, 9, 40), email="second@example.org")


def test_two_coordinators_each_offer_their_own_hours(department, call_coordinator):
    other = staff_user(Role.COORDINATOR, email="riley@example.org")
    add_coordinator(department, other, hours=((time(13), time(14)),))

    slots = slots_open(
        department=department,
        now=NOW,
        first_day=datetime(2026, 11, 18).date(),
        last_day=datetime(2026, 11, 18).date(),
    )

    assert [s.coordinator_ids for s in slots][-1] == (other.pk,)
    assert slots[0].coordinator_ids == (call_coordinator.user_id,)


def test_an_inactive_coordinator_is_not_offered(department, call_coordinator):
    call_coordinator.active = False
    call_coordinator.save()

    assert slots_open(department=department, now=NOW) == []


@pytest.mark.parametrize(
    ("now", "day", "first_utc"),
    [
        # Spring forward (Sunday 8 March 2026): 9:00 is 14:00 UTC on Friday, 13:00 on Monday.
        (datetime(2026, 3, 4, 12, tzinfo=UTC), datetime(2026, 3, 6).date(), "14:00"),
        (datetime(2026, 3, 4, 12, tzinfo=UTC), datetime(2026, 3, 9).date(), "13:00"),
        # Fall back (Sunday 1 November 2026): 13:00 UTC on Friday, 14:00 on Monday.
        (datetime(2026, 10, 28, 12, tzinfo=UTC), datetime(2026, 10, 30).date(), "13:00"),
        (datetime(2026, 10, 28, 12, tzinfo=UTC), datetime(2026, 11, 2).date(), "14:00"),
    ],
)
def test_hours_stay_at_nine_oclock_local_across_daylight_saving_changes(
    department, call_coordinator, now, day, first_utc
):
    slots = starts(department, day, now=now)

    assert slots[0].strftime("%H:%M") == first_utc
    assert [s.astimezone(ZoneInfo(department.time_zone)).strftime("%H:%M") for s in slots] == [
        "09:00",
        "09:40",
        "10:20",
        "11:00",
    ]


@pytest.mark.parametrize(
    "day", [datetime(2026, 3, 8).date(), datetime(2026, 11, 1).date()], ids=["spring", "fall"]
)
def test_hours_across_the_changing_hour_itself_are_real_elapsed_minutes(
    department, coordinator, day
):
    # Sunday hours 1:00–4:00: 3 hours of wall clock, 2 real hours in spring and 4 in fall.
    add_coordinator(department, coordinator, hours=((time(1), time(4)),), weekdays=[6])
    now = datetime.combine(day, time(), tzinfo=UTC) - timedelta(days=3)

    slots = slots_open(department=department, now=now, first_day=day, last_day=day)

    for slot in slots:
        assert slot.ends_at - slot.starts_at == timedelta(minutes=30)
    assert len(slots) == (3 if day.month == 3 else 6)


def test_slot_at_finds_only_an_exact_open_start(department, call_coordinator):
    assert slot_at(department=department, starts_at=ny(2026, 11, 18, 9), now=NOW)
    assert slot_at(department=department, starts_at=ny(2026, 11, 18, 9, 5), now=NOW) is None


def test_booking_holds_time_in_the_database(frozen_now, department, call_coordinator):
    assert slot_at(department=department, starts_at=ny(2026, 11, 18, 9), now=NOW)

    booking = book(department, ny(2026, 11, 18, 9))

    # No longer offered, and the service refuses a second family that time.
    assert slot_at(department=department, starts_at=ny(2026, 11, 18, 9), now=NOW) is None
    with pytest.raises(SlotTaken):
        book(department, ny(2026, 11, 18, 9), email="second@example.org")
    # Past the service (a bug, or a race where no row lock reaches), the database says no.
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(
            department=department,
            coordinator_id=booking.coordinator_id,
            starts_at=booking.starts_at,
            ends_at=booking.ends_at,
            family_time_zone="UTC",
            ical_uid="call-second@example.org",
            **{**DETAILS, "email": "second@example.org"},
        )
    assert list(Booking.objects.values_list("email", flat=True)) == ["parent@example.org"]


def test_a_call_near_midnight_keeps_its_buffer_into_the_next_day(department, coordinator):
    # Hours around midnight: a call ending 23:50 with a 15-minute buffer blocks 0:00 the next
    # day, whose starts are 0:00, 0:45 and 1:30 otherwise.
    department.buffer_minutes = 15
    department.save()
    add_coordinator(
        department,
        coordinator,
        hours=((time(0), time(2)), (time(23, 20), time(23, 59))),
        weekdays=[2, 3],
    )
    with time_machine.travel(NOW, tick=False):
        book(department, ny(2026, 11, 18, 23, 20))

    thursday = starts(department, datetime(2026, 11, 19).date())

    assert ny(2026, 11, 19, 0) not in thursday
    assert thursday[0] == ny(2026, 11, 19, 0, 45)


def test_a_coordinators_day_off_counts_in_every_department_they_cover(
    frozen_now, department, call_coordinator, coordinator
):
    from tests.factories import DepartmentFactory

    cardiology = DepartmentFactory(name="Cardiology", slug="cardiology", call_length_minutes=30)
    add_coordinator(cardiology, coordinator)
    day = datetime(2026, 11, 18).date()
    AvailabilityException.objects.create(
        department=department, coordinator=call_coordinator, date=day
    )

    assert starts(department, day) == []
    assert starts(cardiology, day) == []


def test_a_days_off_coordinator_must_belong_to_the_department(department, call_coordinator):
    from django.core.exceptions import ValidationError

    from tests.factories import DepartmentFactory

    other = DepartmentFactory()
    exception = AvailabilityException(
        department=other, coordinator=call_coordinator, date=datetime(2026, 11, 18).date()
    )

    with pytest.raises(ValidationError, match="coordinator of this department"):
        exception.full_clean()
