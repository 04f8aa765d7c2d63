"""One clock for days left: the same request at the same instant shows the same days on the
reviewer's "My reviews" and case pages, the coordinators' dashboard and the family's status
page, and the deadline sweep alerts at the moment those pages change.

The rule: calendar days on the department's clock ("due today" all the due date's day), or
the department's business days (weekdays that are not its holidays) when it is set so."""

import re
from datetime import UTC, date, datetime
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Role
from intake.lifecycle import Status
from intake.models import ReviewDays
from notifications.models import Message
from reviews.deadlines import deadline_alerts_send_due
from reviews.models import AlertKind, DeadlineAlert
from reviews.services import review_assignment_add
from scheduling.models import AvailabilityException
from tests.conftest import sign_in
from tests.factories import DepartmentFactory, ReviewServiceFactory, review_request, staff_user
from tests.scheduling.conftest import add_coordinator

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def ny(month, day, hour=10, minute=0, second=0) -> datetime:
    """A wall time in New York in 2026 (the clocks go forward on Sunday 8 March)."""
    return datetime(2026, month, day, hour, minute, second, tzinfo=NEW_YORK).astimezone(UTC)


def la(month, day, hour=10, minute=0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=LOS_ANGELES).astimezone(UTC)


def in_review(paid_at, *, family, reviewer, department=None):
    """A request paid at ``paid_at`` (target 7 days later, limit 10), in review, with
    ``reviewer`` leading its panel."""
    service = ReviewServiceFactory(department=department or DepartmentFactory())
    with time_machine.travel(paid_at, tick=False):
        request = review_request(family=family, status=Status.IN_REVIEW, service=service)
    review_assignment_add(review_request=request, reviewer=reviewer, is_lead=True)
    return request


def text(html: str) -> str:
    """What a reader sees of ``html``: no tags, single spaces, lower case."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split()).lower()


def row_of(page: str, reference: str) -> str:
    """The table row that names ``reference``."""
    at = page.index(reference)
    return text(page[page.rindex("<tr", 0, at) : page.index("</tr>", at)])


def get(client, name, *args) -> str:
    response = client.get(reverse(name, args=args))
    assert response.status_code == 200
    return response.content.decode()


def shown_everywhere(client, request, at, *, family, reviewer, coordinator) -> dict[str, str]:
    """What each page says of ``request`` at ``at``: the lines that give its days left."""
    reference = request.reference
    with time_machine.travel(at, tick=False):
        sign_in(client, reviewer)
        my_reviews = get(client, "reviews:my_reviews")
        case = get(client, "reviews:case", reference)
        sign_in(client, coordinator)
        dashboard = get(client, "admin:index")
        sign_in(client, family)
        status = get(client, "intake:request_detail", reference)
    case_header = case[case.index("</h1>") : case.index("</p>", case.index("</h1>"))]
    next_steps = status[status.index('id="next-title"') : status.index("</section>")]
    in_review_list = dashboard[dashboard.index('id="dashboard-in-review"') :]
    return {
        "my reviews": row_of(my_reviews, reference),
        "case": text(case_header),
        "dashboard": row_of(in_review_list, reference),
        "status page": text(next_steps),
    }


def assert_everywhere(shown: dict[str, str], *phrases: str):
    for page, line in shown.items():
        for phrase in phrases:
            assert phrase.lower() in line, (page, phrase, line)


# Paid Monday 2 March at 10:00 in New York: due Monday 9 March at 10:00, after the clocks
# went forward, so the week is 167 hours long.
NY_PAID = ny(3, 2, 10)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (ny(3, 6, 11), "3 days left"),  # 2 days 23 hours before, across the change
        (ny(3, 8, 23, 30), "1 day left"),  # Sunday night: already Monday in UTC
        (ny(3, 9, 0, 30), "due today"),
        (ny(3, 9, 21), "due today"),  # eleven hours after its hour, still its day
        (ny(3, 10, 0, 30), "overdue by 1 day"),
        (ny(3, 11, 13), "overdue by 2 days"),  # 2 days and 3 hours past the target
    ],
)
def test_the_reviewer_the_coordinators_and_the_family_see_the_same_days_left(
    client, family, assigned_reviewer, coordinator, at, expected
):
    request = in_review(NY_PAID, family=family, reviewer=assigned_reviewer)

    shown = shown_everywhere(
        client, request, at, family=family, reviewer=assigned_reviewer, coordinator=coordinator
    )

    assert_everywhere(shown, expected)


def test_a_department_in_another_zone_counts_on_its_own_calendar(
    client, family, assigned_reviewer, coordinator
):
    # Paid Monday 2 March at 22:00 in Los Angeles: due Monday 9 March at 22:00 there, which
    # is already Tuesday in New York (the site's zone).
    department = DepartmentFactory(time_zone="America/Los_Angeles")
    request = in_review(
        la(3, 2, 22), family=family, reviewer=assigned_reviewer, department=department
    )
    people = {"family": family, "reviewer": assigned_reviewer, "coordinator": coordinator}

    monday_evening = shown_everywhere(client, request, la(3, 9, 20), **people)  # 23:00 in NY
    sunday_night = shown_everywhere(client, request, la(3, 8, 22, 30), **people)  # Monday in NY
    tuesday_night = shown_everywhere(client, request, la(3, 10, 0, 30), **people)

    assert_everywhere(monday_evening, "due today")
    assert_everywhere(sunday_night, "1 day left")
    assert_everywhere(tuesday_night, "overdue by 1 day")
    # The date is the department's, on every page.
    assert "monday, march 9" in monday_evening["status page"]
    assert "monday, march 9" in monday_evening["case"]
    assert "mon mar 9" in monday_evening["dashboard"]
    assert "mar 9" in monday_evening["my reviews"]


@pytest.fixture
def business_department(db):
    """Counts business days; Monday 9 March is its holiday. A coordinator's own day off and a
    closing for some hours on Tuesday 10 March are not holidays."""
    department = DepartmentFactory(review_days=ReviewDays.BUSINESS, alerts_email="a@example.org")
    AvailabilityException.objects.create(department=department, date=date(2026, 3, 9))
    someone = add_coordinator(department, staff_user(Role.COORDINATOR, email="c2@example.org"))
    AvailabilityException.objects.create(
        department=department, coordinator=someone, date=date(2026, 3, 10)
    )
    AvailabilityException.objects.create(
        department=department,
        date=date(2026, 3, 10),
        start_time=datetime(2026, 1, 1, 12).time(),
        end_time=datetime(2026, 1, 1, 17).time(),
    )
    return department


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (ny(3, 6, 12), "2 business days left"),  # Friday: (Monday off) Tuesday, Wednesday
        (ny(3, 7, 12), "2 business days left"),  # Saturday
        (ny(3, 9, 12), "2 business days left"),  # the holiday
        (ny(3, 10, 12), "1 business day left"),
        (ny(3, 11, 20), "due today"),
        (ny(3, 12, 0, 30), "overdue by 1 business day"),
        (ny(3, 14, 12), "overdue by 2 business days"),  # Saturday: Thursday and Friday
    ],
)
def test_business_days_skip_the_weekend_and_the_departments_holiday_on_every_page(
    client, family, assigned_reviewer, coordinator, business_department, at, expected
):
    # Paid Wednesday 4 March: due Wednesday 11 March, seven calendar days later as promised.
    request = in_review(
        ny(3, 4, 10), family=family, reviewer=assigned_reviewer, department=business_department
    )

    shown = shown_everywhere(
        client, request, at, family=family, reviewer=assigned_reviewer, coordinator=coordinator
    )

    assert request.due_target_at == ny(3, 11, 10)
    assert_everywhere(shown, expected)


def alert_kinds(request) -> set[str]:
    return set(DeadlineAlert.objects.filter(request=request).values_list("kind", flat=True))


def my_reviews_line(client, request, at) -> str:
    """The reviewer's line for ``request`` at ``at`` (signed in then: staff sessions end after
    15 idle minutes)."""
    with time_machine.travel(at, tick=False):
        sign_in(client, request.assignments.get().reviewer)
        return row_of(get(client, "reviews:my_reviews"), request.reference)


def test_the_sweep_alerts_when_the_pages_change_counting_business_days(
    client, family, assigned_reviewer, business_department
):
    request = in_review(
        ny(3, 4, 10), family=family, reviewer=assigned_reviewer, department=business_department
    )
    # The reminder: when "2 business days left" first shows, Friday 6 March at midnight
    # (a calendar department would wait until Monday).
    before_reminder, reminder = ny(3, 5, 23, 59, 59), ny(3, 6, 0)
    # The target alert: when "overdue" first shows, Thursday 12 March at midnight.
    before_target, target = ny(3, 11, 23, 59, 59), ny(3, 12, 0)

    lines, kinds = {}, {}
    for at in (before_reminder, reminder, before_target, target):
        lines[at] = my_reviews_line(client, request, at)
        deadline_alerts_send_due(now=at)
        kinds[at] = alert_kinds(request)

    assert "3 business days left" in lines[before_reminder]
    assert kinds[before_reminder] == set()
    assert "2 business days left" in lines[reminder]
    assert kinds[reminder] == {AlertKind.REVIEWER_REMINDER}
    assert "due today" in lines[before_target]
    assert kinds[before_target] == {AlertKind.REVIEWER_REMINDER}
    assert "overdue by 1 business day" in lines[target]
    assert kinds[target] == {AlertKind.REVIEWER_REMINDER, AlertKind.TARGET}
    reminder_mail = Message.objects.get(template="deadline_reviewer_reminder")
    assert "2 business days left" in " ".join(reminder_mail.body.split())


def test_the_sweep_alerts_when_the_pages_change_on_the_departments_calendar(
    client, family, assigned_reviewer, coordinator
):
    request = in_review(NY_PAID, family=family, reviewer=assigned_reviewer)
    # Due Monday 9 March: "2 days left" from Saturday, overdue from Tuesday (New York).
    moments = [ny(3, 6, 23, 59, 59), ny(3, 7, 0), ny(3, 9, 23, 59, 59), ny(3, 10, 0)]

    seen = []
    for at in moments:
        line = my_reviews_line(client, request, at)
        deadline_alerts_send_due(now=at)
        seen.append((line, alert_kinds(request)))

    reminder, target = AlertKind.REVIEWER_REMINDER, AlertKind.TARGET
    assert [(next(p for p in PHRASES if p in line), kinds) for line, kinds in seen] == [
        ("3 days left", set()),
        ("2 days left", {reminder}),
        ("due today", {reminder}),
        ("overdue by 1 day", {reminder, target}),
    ]
    assert DeadlineAlert.objects.get(request=request, kind=target).threshold_at == ny(3, 10, 0)


PHRASES = ("3 days left", "2 days left", "due today", "overdue by 1 day")


def test_the_setting_does_not_move_the_due_dates(family, business_department):
    service = ReviewServiceFactory(department=business_department)
    with time_machine.travel(ny(3, 6, 16), tick=False):  # a Friday
        request = review_request(family=family, status=Status.SUBMITTED, service=service)

    assert (request.due_target_at, request.due_limit_at) == (ny(3, 13, 16), ny(3, 16, 16))


def test_a_department_counts_in_the_days_its_admin_chooses(client, admin_user):
    department = DepartmentFactory()
    page = reverse("admin:intake_department_change", args=[department.pk])
    sign_in(client, admin_user)
    fields = ("name", "slug", "phone", "time_zone", "call_length_minutes", "buffer_minutes")
    fields += ("minimum_notice_hours", "booking_horizon_days", "max_calls_per_day")
    data = {name: getattr(department, name) for name in fields}

    shown = client.get(page).content.decode()
    response = client.post(page, {**data, "active": "on", "review_days": ReviewDays.BUSINESS})

    assert "Count days left in" in shown
    assert response.status_code == 302
    department.refresh_from_db()
    assert department.review_days == ReviewDays.BUSINESS
