"""The holiday calendar the review clock counts business days with: scheduling's whole-day
closures of a whole department, read once for many departments, through the setting that
keeps intake from importing scheduling."""

from datetime import date, time

import pytest

from accounts.models import Role
from config.holidays import department_holidays
from intake.models import ReviewDays
from intake.selectors import day_counts_for
from scheduling.models import AvailabilityException
from tests.factories import DepartmentFactory, staff_user
from tests.scheduling.conftest import add_coordinator

pytestmark = pytest.mark.django_db

THANKSGIVING = date(2026, 11, 26)


def no_holidays(*, department_ids, start, end):
    return {}


def test_a_holiday_is_a_whole_day_closure_of_the_whole_department(django_assert_num_queries):
    department, other = DepartmentFactory(), DepartmentFactory()
    AvailabilityException.objects.create(department=department, date=THANKSGIVING)
    AvailabilityException.objects.create(  # closes early: still a business day
        department=department, date=date(2026, 11, 27), start_time=time(12), end_time=time(17)
    )
    coordinator = add_coordinator(department, staff_user(Role.COORDINATOR))
    AvailabilityException.objects.create(  # one coordinator's day off
        department=department, coordinator=coordinator, date=date(2026, 11, 30)
    )
    AvailabilityException.objects.create(
        department=department,
        coordinator=coordinator,
        date=date(2026, 12, 1),
        kind=AvailabilityException.Kind.EXTRA,
        start_time=time(13),
        end_time=time(15),
    )
    AvailabilityException.objects.create(department=department, date=date(2026, 12, 25))
    AvailabilityException.objects.create(department=other, date=date(2026, 11, 27))

    with django_assert_num_queries(1):
        holidays = department_holidays(
            department_ids=[department.pk, other.pk], start=date(2026, 11, 1), end=date(2026, 12, 1)
        )

    assert holidays == {department.pk: {THANKSGIVING}, other.pk: {date(2026, 11, 27)}}


def test_only_departments_counting_business_days_read_the_calendar(django_assert_num_queries):
    calendar = DepartmentFactory()
    business = DepartmentFactory(review_days=ReviewDays.BUSINESS)
    for department in (calendar, business):
        AvailabilityException.objects.create(department=department, date=THANKSGIVING)
    window = {"start": date(2026, 11, 1), "end": date(2026, 11, 30)}

    with django_assert_num_queries(0):
        only_calendar = day_counts_for(departments=[calendar], **window)
    with django_assert_num_queries(1):
        both = day_counts_for(departments=[calendar, business], **window)

    assert only_calendar[calendar.pk].holidays == frozenset()
    assert (both[calendar.pk].business_days, both[calendar.pk].holidays) == (False, frozenset())
    assert (both[business.pk].business_days, both[business.pk].holidays) == (
        True,
        frozenset({THANKSGIVING}),
    )


def test_the_calendar_is_the_one_the_setting_names(settings):
    business = DepartmentFactory(review_days=ReviewDays.BUSINESS)
    AvailabilityException.objects.create(department=business, date=THANKSGIVING)
    settings.REVIEW_HOLIDAYS = "tests.config.test_holidays.no_holidays"

    counts = day_counts_for(departments=[business], start=THANKSGIVING, end=THANKSGIVING)

    assert counts[business.pk].holidays == frozenset()
