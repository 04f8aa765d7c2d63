import os
from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from scheduling.models import AvailabilityException
from scheduling.slots import booking_window, slots_open
from tests.conftest import CHROMIUM
from tests.factories import DepartmentFactory
from tests.scheduling.conftest import add_coordinator

# The first open time must still be open when the form is sent a few seconds later.
MARGIN = timedelta(minutes=5)

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test
# (factories, assertions) are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium: Playwright cannot download its own browser here."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def csp_violations(page):
    """Everything the browser refused under the Content-Security-Policy while on the page."""
    refused = []
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and refused.append(message.text),
    )
    return refused


@pytest.fixture
def neurology(coordinator):
    department = DepartmentFactory(
        name="Neurology",
        slug="neurology",
        phone="404-555-0120",
        time_zone="America/New_York",
        call_length_minutes=30,
        buffer_minutes=10,
        minimum_notice_hours=1,
        booking_horizon_days=14,
    )
    staff = add_coordinator(
        department, coordinator, hours=((time(0), time(23, 59)),), weekdays=range(7)
    )
    now = timezone.now()
    earliest, _ = booking_window(department, now)
    first = slots_open(department=department, now=now)[0]
    if first.starts_at - earliest < MARGIN:
        # Too close to the minimum notice: the coordinator takes that one off, so the first
        # time offered is comfortably bookable whatever the real clock says.
        zone = ZoneInfo(department.time_zone)
        AvailabilityException.objects.create(
            department=department,
            coordinator=staff,
            date=first.starts_at.astimezone(zone).date(),
            start_time=first.starts_at.astimezone(zone).time(),
            end_time=first.ends_at.astimezone(zone).time(),
        )
    return department
