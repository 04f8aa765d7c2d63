"""Families booking the same call time at the same instant, on PostgreSQL (SQLite has no row
locks). The clock is the real one: threads share it, and the slot is a few days ahead."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Role
from notifications.models import Message
from scheduling import services
from scheduling.models import Booking, Coordinator
from scheduling.slots import booking_window, slots_open
from tests.factories import DepartmentFactory, staff_user
from tests.scheduling.conftest import DETAILS, add_coordinator

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TAKEN = "Sorry, that time was just taken. Please pick another time."


def open_start(department, *, free=1):
    """The first slot at least two days after the minimum notice with ``free`` coordinators
    free: far enough from the notice boundary that the real clock ticking cannot matter."""
    now = timezone.now()
    earliest, _ = booking_window(department, now)
    return next(
        slot.starts_at
        for slot in slots_open(department=department, now=now)
        if slot.starts_at >= earliest + timedelta(days=2) and len(slot.coordinator_ids) >= free
    )


def race(departments, starts_at):
    """One family per department in ``departments`` books ``starts_at``, all released at once
    by a barrier while this thread holds the coordinators' rows, so every booking has begun
    (read the clock, opened its transaction) before the first one can finish. Returns what
    each family got: a Booking or the exception."""
    outcomes = [None] * len(departments)
    started = threading.Barrier(len(departments) + 1)

    def attempt(index, department):
        try:
            started.wait()
            outcomes[index] = services.booking_create(
                department=department,
                starts_at=starts_at,
                details={**DETAILS, "email": f"family{index}@example.org"},
                family_time_zone="America/New_York",
            )
        except Exception as error:  # what each thread got is asserted
            outcomes[index] = error
        finally:
            connection.close()

    threads = [
        threading.Thread(target=attempt, args=(index, department))
        for index, department in enumerate(departments)
    ]
    users = Coordinator.objects.filter(department__in=departments).values("user")
    with transaction.atomic():
        list(Coordinator.objects.select_for_update().filter(user__in=users).order_by("pk"))
        for thread in threads:
            thread.start()
        started.wait()
        time.sleep(0.5)  # every booking is now waiting for the rows this transaction holds
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a booking never finished"
    return outcomes


def split(outcomes):
    booked = [outcome for outcome in outcomes if isinstance(outcome, Booking)]
    refused = [outcome for outcome in outcomes if not isinstance(outcome, Booking)]
    return booked, refused


def test_twenty_families_booking_one_time_at_once_get_one_call(department, call_coordinator):
    starts_at = open_start(department)

    outcomes = race([department] * 20, starts_at)

    booked, refused = split(outcomes)
    assert len(booked) == 1
    assert len(refused) == 19
    for refusal in refused:
        assert type(refusal) is services.SlotTaken, repr(refusal)
        assert isinstance(refusal, services.BookingRefused)
        assert "just taken" in str(refusal)
        assert str(refusal) == TAKEN
    booking = Booking.objects.get()
    assert booking.pk == booked[0].pk
    assert booking.starts_at == starts_at
    assert booking.coordinator_id == call_coordinator.user_id
    assert booking.status == Booking.Status.BOOKED
    # The refused families' e-mails were rolled back with their bookings.
    assert Message.objects.filter(template="call_booked").count() == 1
    assert Message.objects.get(template="call_booked").to == booking.email
    assert Message.objects.filter(template="call_booked_coordinator").count() == 1


def test_two_families_at_once_with_two_coordinators_get_one_call_each(department, call_coordinator):
    second = add_coordinator(
        department, staff_user(Role.COORDINATOR, email="coordinator.two@example.org")
    )
    starts_at = open_start(department, free=2)

    outcomes = race([department] * 2, starts_at)

    booked, refused = split(outcomes)
    assert refused == []
    assert len(booked) == 2
    bookings = Booking.objects.filter(starts_at=starts_at, status=Booking.Status.BOOKED)
    assert sorted(bookings.values_list("coordinator_id", flat=True)) == sorted(
        [call_coordinator.user_id, second.user_id]
    )


def test_a_coordinator_of_two_departments_is_not_booked_twice_at_once(department, coordinator):
    cardiology = DepartmentFactory(
        name="Cardiology",
        slug="cardiology",
        time_zone=department.time_zone,
        call_length_minutes=department.call_length_minutes,
        buffer_minutes=department.buffer_minutes,
        minimum_notice_hours=department.minimum_notice_hours,
        booking_horizon_days=department.booking_horizon_days,
        max_calls_per_day=department.max_calls_per_day,
    )
    add_coordinator(department, coordinator)
    add_coordinator(cardiology, coordinator)
    starts_at = open_start(department)
    assert starts_at in [
        slot.starts_at for slot in slots_open(department=cardiology, now=timezone.now())
    ]

    outcomes = race([department, cardiology], starts_at)

    booked, refused = split(outcomes)
    assert len(booked) == 1
    assert len(refused) == 1
    assert type(refused[0]) is services.SlotTaken, repr(refused[0])
    assert "just taken" in str(refused[0])
    booking = Booking.objects.get()
    assert booking.coordinator_id == coordinator.pk
    assert booking.starts_at == starts_at


def race_on_appointment(appointment, attempts):
    """Each of ``attempts`` (a function of the appointment) runs in its own thread, all
    released at once while this thread holds the appointment's row. Returns what each got."""
    from scheduling.models import Appointment

    outcomes = [None] * len(attempts)
    started = threading.Barrier(len(attempts) + 1)

    def run(index, attempt):
        try:
            started.wait()
            outcomes[index] = attempt(Appointment.objects.get(pk=appointment.pk))
        except Exception as error:  # what each thread got is asserted
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(attempts)]
    with transaction.atomic():
        Appointment.objects.select_for_update().get(pk=appointment.pk)
        for thread in threads:
            thread.start()
        started.wait()
        time.sleep(0.5)  # both have read the appointment as scheduled, and wait for the row
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a change never finished"
    return outcomes


@pytest.fixture
def appointment(db):
    coordinator = staff_user(Role.COORDINATOR, email="casey@example.org")
    return services.appointment_create(
        actor=coordinator,
        department=DepartmentFactory(),
        parent_name="Jordan Rivera",
        email="parent@example.org",
        child_first_name="Alex",
        kind="virtual",
        video_link="https://video.example.org/room",
        provider="Dr. Chen",
        starts_at=timezone.now() + timedelta(days=10),
    )


def test_two_cancellations_at_once_cancel_once_and_send_one_e_mail(appointment):
    from scheduling.models import Appointment, AppointmentChange

    def cancel(row):
        return services.appointment_cancel(appointment=row, reason="Asked", actor=row.created_by)

    outcomes = race_on_appointment(appointment, [cancel, cancel])

    cancelled = [o for o in outcomes if isinstance(o, Appointment)]
    refused = [o for o in outcomes if isinstance(o, services.AppointmentRefused)]
    assert (len(cancelled), len(refused)) == (1, 1), outcomes
    assert "can no longer be moved or cancelled" in str(refused[0])
    appointment.refresh_from_db()
    assert appointment.ical_sequence == 1
    assert AppointmentChange.objects.count() == 1
    assert Message.objects.filter(template="appointment_cancelled").count() == 1


def test_two_moves_at_once_both_apply_one_after_the_other_with_growing_sequences(appointment):
    from scheduling.models import AppointmentChange

    later = [appointment.starts_at + timedelta(days=d) for d in (1, 2)]

    def move_to(when):
        return lambda row: services.appointment_move(
            appointment=row, starts_at=when, actor=row.created_by
        )

    race_on_appointment(appointment, [move_to(when) for when in later])

    appointment.refresh_from_db()
    changes = list(AppointmentChange.objects.order_by("pk"))
    assert appointment.ical_sequence == 2
    # The second move started from where the first left the visit: nothing was lost.
    assert changes[1].before["starts_at"] == changes[0].after["starts_at"]
    assert appointment.starts_at.isoformat() == changes[1].after["starts_at"]
