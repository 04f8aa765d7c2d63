"""A department with one coordinator (the ``coordinator`` persona) taking calls Monday to
Friday, 9:00 to 12:00 New York time; the clock is frozen on Monday 16 November 2026, 8:00
in New York, unless a test moves it."""

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from scheduling import services
from scheduling.models import Coordinator, WeeklyHours
from tests.factories import DepartmentFactory

NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 16, 13, 0, tzinfo=UTC)  # Monday 8:00 in New York

DETAILS = {
    "parent_name": "Jordan Rivera",
    "phone": "+14045550123",
    "email": "parent@example.org",
    "child_first_name": "Alex",
    "child_age": 12,
    "diagnosis": "Scoliosis",
    "current_hospital": "Savannah Pediatrics",
    "reason": "Is surgery needed?",
    "consent_to_contact": True,
}


def ny(year, month, day, hour, minute=0):
    """A New York wall time as an aware UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK).astimezone(UTC)


@pytest.fixture
def frozen_now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def department(db):
    return DepartmentFactory(
        name="Orthopedics",
        slug="orthopedics",
        phone="404-555-0110",
        time_zone="America/New_York",
        call_length_minutes=30,
        buffer_minutes=10,
        minimum_notice_hours=24,
        booking_horizon_days=30,
        max_calls_per_day=8,
    )


def add_coordinator(department, user, hours=((time(9), time(12)),), weekdays=range(5)):
    coordinator = Coordinator.objects.create(department=department, user=user)
    for weekday in weekdays:
        for start, end in hours:
            WeeklyHours.objects.create(
                coordinator=coordinator, weekday=weekday, start_time=start, end_time=end
            )
    return coordinator


@pytest.fixture
def call_coordinator(department, coordinator):
    return add_coordinator(department, coordinator)


def book(department, starts_at, **details):
    return services.booking_create(
        department=department,
        starts_at=starts_at,
        details={**DETAILS, **details},
        family_time_zone="America/New_York",
    )


@pytest.fixture
def booking(frozen_now, call_coordinator, department):
    """A call on Wednesday 18 November at 9:00 New York time (two days ahead)."""
    return book(department, ny(2026, 11, 18, 9))
