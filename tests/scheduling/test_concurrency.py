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
