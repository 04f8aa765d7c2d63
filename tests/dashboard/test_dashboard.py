"""The coordinators' dashboard on the admin's index page: every figure it shows, what it
costs in queries whatever the number of requests, and who may see it."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from accounts.models import User
from billing.models import Payment
from billing.services import payment_record_phone, payment_refund
from intake.lifecycle import Status
from intake.models import DeliveryDay, ReviewDays
from intake.services import review_request_transition
from reviews.models import AlertKind, DeadlineAlert
from reviews.selectors import with_load
from reviews.services import review_assignment_add, review_assignment_remove
from scheduling.models import AvailabilityException
from scheduling.services import booking_cancel
from tests.conftest import PERSONAS, sign_in
from tests.dashboard.bulk import calls_bulk, requests_bulk
from tests.factories import DepartmentFactory, ReviewServiceFactory, review_request
from tests.scheduling.conftest import add_coordinator, book, ny

pytestmark = pytest.mark.django_db

# Wednesday 18 November 2026, 10:00 in New York, the site's time zone.
NOW = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)

# Signed-in staff: session, user, second-factor device; the dashboard: queue counts (1),
# requests in review (1; their departments' holidays only if one counts business days), open
# breaches and their count (2), the departments' clocks, reviewers and their counts (3),
# on-time figures (1), today's calls (1), payment totals per day and month (1, from the
# daily totals); the admin: permissions (2), recent actions (1); the session's idle stamp
# saved (3, in a savepoint under the test's transaction).
QUERIES = 19


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def coordinator_client(client, coordinator):
    return sign_in(client, coordinator)


def dashboard(client) -> tuple[dict, str]:
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return response.context["dashboard"], response.content.decode()


def move(request, *statuses):
    for status in statuses:
        request = review_request_transition(
            review_request=request, to_status=status, actor=None, note="Test note."
        )
    return request


def in_review_since(family, submitted_at, service=None):
    """A request paid at ``submitted_at`` and in review since an hour later."""
    with time_machine.travel(submitted_at, tick=False):
        request = review_request(family=family, status=Status.SUBMITTED, service=service)
    with time_machine.travel(submitted_at + timedelta(hours=1), tick=False):
        return move(request, Status.IN_REVIEW)


def delivered(family, service, *, ago, days, waited=None):
    """A request delivered ``ago`` before now, ``days`` after it was paid; ``waited``: how
    long it waited on the family meanwhile (its due dates move by as much)."""
    submitted_at = NOW - ago - days
    with time_machine.travel(submitted_at, tick=False):
        request = review_request(family=family, status=Status.SUBMITTED, service=service)
    start = submitted_at + timedelta(hours=1)
    if waited:
        with time_machine.travel(start, tick=False):
            request = move(request, Status.NEEDS_INFO)
        start += waited
        with time_machine.travel(start, tick=False):
            request = move(request, Status.SUBMITTED)
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        request = move(request, Status.IN_REVIEW)
    with time_machine.travel(submitted_at + days, tick=False):
        return move(request, Status.OPINION_READY, Status.DELIVERED)


def test_each_queue_shows_its_count_and_links_to_its_filtered_list(
    coordinator_client, family, frozen
):
    made = {
        Status.DRAFT: 1,
        Status.AWAITING_PAYMENT: 2,
        Status.SUBMITTED: 1,
        Status.NEEDS_INFO: 1,
        Status.IN_REVIEW: 3,
        Status.OPINION_READY: 1,
        Status.DELIVERED: 1,
        Status.CANCELLED: 1,
    }
    for status, count in made.items():
        for _ in range(count):
            review_request(family=family, status=status)

    board, page = dashboard(coordinator_client)

    assert [(queue["label"], queue["hint"], queue["count"]) for queue in board["queues"]] == [
        ("Awaiting payment", "fee not paid yet", 2),
        ("Submitted", "confirm the records", 1),
        ("Needs information", "waiting on the family", 1),
        ("In review", "with the reviewers", 3),
        ("Opinion ready", "to deliver", 1),
    ]
    for queue in board["queues"]:
        assert f'href="{queue["url"]}"' in page
        listed = coordinator_client.get(queue["url"])
        assert listed.status_code == 200
        assert listed.context["cl"].result_count == queue["count"]


def test_requests_in_review_are_listed_overdue_first_with_the_days_left(
    coordinator_client, family, frozen
):
    five_left = in_review_since(family, NOW - timedelta(days=2))
    due_in_an_hour = in_review_since(family, NOW - timedelta(days=7) + timedelta(hours=1))
    two_days_late = in_review_since(family, NOW - timedelta(days=9))
    an_hour_late = in_review_since(family, NOW - timedelta(days=7, hours=1))
    move(review_request(family=family, status=Status.SUBMITTED), Status.NEEDS_INFO)

    board, page = dashboard(coordinator_client)

    # Calendar days in the department's zone: due today is due today, whatever the hour.
    assert [(item.request, item.label, item.overdue) for item in board["in_review"]] == [
        (two_days_late, "Overdue by 2 days", True),
        (an_hour_late, "Due today", False),
        (due_in_an_hour, "Due today", False),
        (five_left, "5 days left", False),
    ]
    section = page[page.index('id="dashboard-in-review"') :]
    positions = [
        section.index(request.reference)
        for request in (two_days_late, an_hour_late, due_in_an_hour, five_left)
    ]
    assert positions == sorted(positions)
    # The target's date on the department's clock.
    assert "<td>Wed Nov 18</td><td>Due today</td>" in section


def test_the_in_review_list_is_cut_short_with_a_link_to_all_of_them_by_due_date(
    coordinator_client, family, coordinator, assigned_reviewer, frozen
):
    requests_bulk(
        count=1500,
        now=NOW,
        family=family,
        services=[ReviewServiceFactory()],
        reviewers=[assigned_reviewer],
    )

    board, page = dashboard(coordinator_client)
    listed = coordinator_client.get(board["in_review_url"])

    assert (len(board["in_review"]), board["in_review_count"]) == (25, 30)
    assert "all 30 in review" in page
    assert listed.context["cl"].result_count == 30
    first = listed.context["cl"].result_list[0]
    assert first.due_target_at == board["in_review"][0].request.due_target_at


def test_workload_counts_each_reviewers_open_and_overdue_assignments(
    coordinator_client, family, assigned_reviewer, unassigned_reviewer, frozen
):
    late = in_review_since(family, NOW - timedelta(days=8))
    on_time = in_review_since(family, NOW - timedelta(days=1))
    not_started = review_request(family=family, status=Status.SUBMITTED)
    finished = review_request(family=family, status=Status.DELIVERED)
    for request in (late, on_time, not_started, finished):
        review_assignment_add(review_request=request, reviewer=assigned_reviewer)
    review_assignment_remove(
        assignment=review_assignment_add(review_request=late, reviewer=unassigned_reviewer)
    )

    board, page = dashboard(coordinator_client)

    assert [
        (row.reviewer, row.open_assignments, row.overdue_assignments) for row in board["workload"]
    ] == [(assigned_reviewer, 2, 1), (unassigned_reviewer, 0, 0)]
    assert assigned_reviewer.full_name in page


def test_past_target_means_the_targets_day_has_passed_on_the_departments_calendar(
    coordinator_client, family, assigned_reviewer, frozen
):
    this_morning = in_review_since(family, NOW - timedelta(days=7, hours=1))  # due at 9:00
    last_night = in_review_since(family, NOW - timedelta(days=7, hours=11))  # due at 23:00
    for request in (this_morning, last_night):
        review_assignment_add(review_request=request, reviewer=assigned_reviewer)

    board, _ = dashboard(coordinator_client)
    suggested = with_load(User.objects.filter(pk=assigned_reviewer.pk), now=NOW).get()

    # Due this morning is "due today" on every page: not yet past the target.
    assert [(row.open_assignments, row.overdue_assignments) for row in board["workload"]] == [
        (2, 1)
    ]
    assert (suggested.open_reviews, suggested.overdue_reviews) == (2, 1)


def test_on_time_shares_and_median_days_per_service_for_30_and_90_days(
    coordinator_client, family, frozen
):
    spine = ReviewServiceFactory(name="Spine document review")
    hip = ReviewServiceFactory(name="Hip document review", reviewers_required=1)
    day = timedelta(days=1)
    delivered(family, spine, ago=5 * day, days=3 * day)  # by the target
    delivered(family, spine, ago=10 * day, days=8 * day)  # late for the target, by the limit
    delivered(family, spine, ago=20 * day, days=12 * day)  # past the limit
    delivered(family, spine, ago=60 * day, days=5 * day)
    delivered(family, spine, ago=70 * day, days=10 * day, waited=4 * day)  # target moved to 11
    delivered(family, spine, ago=80 * day, days=4 * day)
    delivered(family, spine, ago=100 * day, days=20 * day)  # before both windows
    delivered(family, hip, ago=2 * day, days=6 * day)
    in_review_since(family, NOW - 12 * day, service=spine)  # late, but not delivered

    board, page = dashboard(coordinator_client)

    def figures(days):
        return [
            (
                row.service,
                row.delivered,
                row.within_target,
                row.within_limit,
                row.target_share,
                row.limit_share,
                row.median_days,
            )
            for row in board["on_time"][days]
        ]

    assert figures(30) == [
        ("Hip document review", 1, 1, 1, 100, 100, 6.0),
        ("Spine document review", 3, 1, 2, 33, 67, 8.0),
    ]
    assert figures(90) == [
        ("Hip document review", 1, 1, 1, 100, 100, 6.0),
        ("Spine document review", 6, 4, 5, 67, 83, 6.5),
    ]
    section = page[page.index('id="dashboard-on-time-90"') :]
    assert "67% (4)" in section
    assert "6.5" in section


def test_the_daily_delivery_figures_kept_at_each_delivery_match_the_requests(family, frozen):
    spine = ReviewServiceFactory(name="Spine document review")
    day = timedelta(days=1)
    delivered(family, spine, ago=5 * day, days=3 * day)
    delivered(family, spine, ago=5 * day, days=12 * day)
    delivered(family, spine, ago=70 * day, days=10 * day, waited=4 * day)

    def figures():
        return sorted(
            DeliveryDay.objects.values_list(
                "date", "service", "delivered", "within_target", "within_limit", "seconds_taken"
            )
        )

    kept = figures()
    call_command("rebuild_delivery_days", stdout=StringIO())

    assert kept == figures()
    assert [row[2:5] for row in kept] == [(1, 1, 1), (2, 1, 1)]


def test_an_opinion_delivered_on_its_targets_day_counts_as_by_the_target(
    coordinator_client, family, frozen
):
    spine = ReviewServiceFactory(name="Spine document review")
    day, hour = timedelta(days=1), timedelta(hours=1)
    # Paid at 2:00, delivered at 10:00 seven days later: "due today", never shown overdue.
    delivered(family, spine, ago=3 * day, days=7 * day + 8 * hour)
    # Paid at 20:00, delivered at 10:00 the day after its limit's day: past both.
    delivered(family, spine, ago=5 * day, days=10 * day + 14 * hour)

    board, _ = dashboard(coordinator_client)

    (row,) = board["on_time"][30]
    assert (row.delivered, row.within_target, row.within_limit) == (2, 1, 1)


def test_todays_informational_calls_are_listed_on_the_site_clock(coordinator_client, coordinator):
    department = DepartmentFactory()
    add_coordinator(department, coordinator)
    monday_8am = ny(2026, 11, 16, 8)
    with time_machine.travel(monday_8am, tick=False):
        nine = book(department, ny(2026, 11, 17, 9), parent_name="Robin Diaz")
        later = book(department, ny(2026, 11, 17, 9, 40), parent_name="Casey Moore")
        book(department, ny(2026, 11, 18, 9), parent_name="Wednesday Parent")
        booking_cancel(booking=later, actor=coordinator)

    with time_machine.travel(ny(2026, 11, 17, 7), tick=False):
        board, page = dashboard(coordinator_client)

    assert board["today_calls"] == [nine]
    section = page[page.index('id="dashboard-calls"') :]
    assert "Informational calls today, Tuesday, November 17" in section
    assert "9:00 AM" in section
    assert "Robin Diaz" in section
    assert "Casey Moore" not in section


def test_an_open_breach_is_shown_until_the_opinion_is_delivered(coordinator_client, family, frozen):
    late = in_review_since(family, NOW - timedelta(days=11))
    warned = in_review_since(family, NOW - timedelta(days=9, hours=12))
    # As the deadline sweep records them.
    DeadlineAlert.objects.create(
        request=late, kind=AlertKind.BREACH, threshold_at=late.due_limit_at
    )
    DeadlineAlert.objects.create(
        request=warned,
        kind=AlertKind.ESCALATION,
        threshold_at=warned.due_limit_at - timedelta(days=1),
    )

    in_review, _ = dashboard(coordinator_client)
    late = move(late, Status.OPINION_READY)
    ready, page = dashboard(coordinator_client)
    move(late, Status.DELIVERED)
    gone, after = dashboard(coordinator_client)

    assert [alert.request for alert in in_review["breaches"]] == [late]
    assert ([alert.request for alert in ready["breaches"]], ready["breach_count"]) == ([late], 1)
    assert late.reference in page[page.index('id="dashboard-breaches"') :]
    assert (gone["breaches"], gone["breach_count"]) == ([], 0)
    assert "None: every review is within its limit or delivered." in after


def test_the_breach_list_is_cut_short_with_a_link_to_every_open_breach_oldest_first(
    coordinator_client, family, frozen
):
    open_ones = [review_request(family=family, status=Status.IN_REVIEW) for _ in range(12)]
    closed = review_request(family=family, status=Status.DELIVERED)
    for hours, request in enumerate([closed, *open_ones]):
        DeadlineAlert.objects.create(
            request=request, kind=AlertKind.BREACH, threshold_at=NOW - timedelta(hours=50 - hours)
        )
    DeadlineAlert.objects.create(
        request=open_ones[0], kind=AlertKind.ESCALATION, threshold_at=NOW - timedelta(days=9)
    )

    board, page = dashboard(coordinator_client)
    listed = coordinator_client.get(board["breaches_url"])
    ended = coordinator_client.get(
        reverse("admin:reviews_deadlinealert_changelist"), {"kind__exact": "breach", "open": "no"}
    )

    assert [alert.request for alert in board["breaches"]] == open_ones[:10]
    assert board["breach_count"] == 12
    assert "The 10 oldest are shown" in page
    assert "all 12 breaches not delivered yet" in page
    assert listed.status_code == 200
    assert [alert.request for alert in listed.context["cl"].result_list] == open_ones
    assert [alert.request for alert in ended.context["cl"].result_list] == [closed]


def test_payment_totals_are_on_the_dashboard_and_no_longer_on_the_payments_list(
    coordinator_client, family, coordinator, frozen
):
    for _ in range(3):
        payment_record_phone(
            review_request=review_request(family=family, status=Status.AWAITING_PAYMENT),
            amount_cents=50000,
            reference="4242",
            note="",
            actor=coordinator,
        )
    payment_refund(
        payment=Payment.objects.first(), amount_cents=10000, reason="Goodwill.", actor=coordinator
    )

    board, page = dashboard(coordinator_client)
    payments = coordinator_client.get(reverse("admin:billing_payment_changelist"))

    totals = board["payment_totals"]
    assert [row[1:] for row in totals["monthly"]] == [(3, "$1,400.00")]
    assert [row[1:] for row in totals["daily"]] == [(3, "$1,400.00")]
    assert "November 2026" in page
    assert "$1,400.00" in page
    assert payments.status_code == 200
    assert "totals" not in payments.context
    assert "Fees taken" not in payments.content.decode()


def test_the_dashboard_costs_the_same_queries_for_10_and_1000_requests(
    coordinator_client,
    family,
    coordinator,
    assigned_reviewer,
    unassigned_reviewer,
    frozen,
    django_assert_num_queries,
):
    services = [ReviewServiceFactory(), ReviewServiceFactory(target_days=5, limit_days=8)]
    made = {
        "now": NOW,
        "family": family,
        "services": services,
        "reviewers": [assigned_reviewer, unassigned_reviewer],
    }
    calls_bulk(department=services[0].department, coordinator=coordinator, day=NOW.date(), count=3)
    requests_bulk(count=10, **made)

    with django_assert_num_queries(QUERIES):
        few, _ = dashboard(coordinator_client)
    requests_bulk(count=990, start=10, **made)
    with django_assert_num_queries(QUERIES):
        many, page = dashboard(coordinator_client)

    assert many["in_review_count"] == 20
    assert (len(many["breaches"]), len(many["today_calls"])) == (many["breach_count"], 3)
    assert many["breach_count"] > few["breach_count"]
    assert sum(row.open_assignments for row in many["workload"]) == 20
    assert sum(row.delivered for row in many["on_time"][90]) > 0
    assert "Requests waiting" in page


def test_a_department_counting_business_days_costs_one_query_for_all_its_holidays(
    coordinator_client,
    family,
    coordinator,
    assigned_reviewer,
    unassigned_reviewer,
    frozen,
    django_assert_num_queries,
):
    departments = [DepartmentFactory(review_days=ReviewDays.BUSINESS) for _ in range(2)]
    for department in departments:
        AvailabilityException.objects.create(department=department, date=NOW.date())
    made = {
        "now": NOW,
        "family": family,
        "services": [ReviewServiceFactory(department=d) for d in departments],
        "reviewers": [assigned_reviewer, unassigned_reviewer],
    }
    requests_bulk(count=10, **made)

    with django_assert_num_queries(QUERIES + 1):
        dashboard(coordinator_client)
    requests_bulk(count=990, start=10, **made)
    with django_assert_num_queries(QUERIES + 1):
        many, page = dashboard(coordinator_client)

    assert len(many["in_review"]) == 20
    assert "business day" in page


LOGIN = "login"


@pytest.mark.parametrize(
    ("persona", "expected"),
    list(zip(PERSONAS, (LOGIN, 404, 404, 200, 200, 404, 404), strict=True)),
)
def test_only_coordinators_and_admins_see_the_dashboard(request, client, persona, expected):
    sign_in(client, request.getfixturevalue(persona))

    response = client.get(reverse("admin:index"))

    login = response.status_code == 302 and response["Location"].startswith(
        reverse("accounts:login")
    )
    assert (LOGIN if login else response.status_code) == expected
    if expected == 200:
        assert "Requests waiting" in response.content.decode()
        assert "dashboard" in response.context


def test_an_apps_own_page_keeps_its_model_list_without_the_dashboard(coordinator_client):
    response = coordinator_client.get(reverse("admin:app_list", args=["intake"]))

    assert response.status_code == 200
    assert "Review requests" in response.content.decode()
    assert "Requests waiting" not in response.content.decode()
