"""The reviewer workspace: "My reviews" (only the reviewer's active cases, the nearest due
date first, with the time left), the case as the panel reads it (logged), and a 404 for
everyone not on the panel."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from intake.lifecycle import Status
from intake.models import ReviewDays, ReviewService
from records.models import AccessLog
from reviews import selectors, services
from scheduling.models import AvailabilityException
from tests.conftest import sign_in
from tests.factories import DepartmentFactory, ReviewServiceFactory, review_request
from tests.reviews.panel_setup import (
    CHILD_LAST_NAME,
    DIAGNOSIS,
    FAMILY_QUESTIONS,
    OPINION,
    TREATMENT,
    case_in_review,
    sign,
)

pytestmark = pytest.mark.django_db

# A Friday in New York, after the clocks went forward (due dates are whole days after payment).
NOW = datetime(2026, 3, 20, 15, 0, tzinfo=UTC)


def in_review_paid_at(paid_at, *, family, reviewer, target_days=7):
    """A request paid at ``paid_at`` (due ``target_days`` later), with ``reviewer`` on it."""
    with time_machine.travel(paid_at, tick=False):
        request = review_request(
            family=family,
            status=Status.IN_REVIEW,
            service=ReviewServiceFactory(target_days=target_days, limit_days=target_days + 3),
        )
    services.review_assignment_add(review_request=request, reviewer=reviewer)
    return request


def my_reviews(client):
    with time_machine.travel(NOW, tick=False):
        return client.get(reverse("reviews:my_reviews"))


# --- My reviews ----------------------------------------------------------------------------


def test_my_reviews_lists_only_the_reviewers_active_cases_the_nearest_due_first(
    family, assigned_reviewer, unassigned_reviewer, client
):
    # Made in another order than they fall due.
    on_track = in_review_paid_at(NOW - timedelta(days=2), family=family, reviewer=assigned_reviewer)
    overdue = in_review_paid_at(
        NOW - timedelta(days=9, hours=6), family=family, reviewer=assigned_reviewer
    )
    due_soon = in_review_paid_at(
        NOW - timedelta(days=5, hours=12), family=family, reviewer=assigned_reviewer
    )
    removed = in_review_paid_at(NOW - timedelta(days=8), family=family, reviewer=assigned_reviewer)
    services.review_assignment_remove(
        assignment=removed.assignments.get(), reason="Replaced on the panel."
    )
    declined = in_review_paid_at(NOW - timedelta(days=8), family=family, reviewer=assigned_reviewer)
    services.assignment_decline(
        assignment=declined.assignments.get(), reason="conflict", note="", actor=assigned_reviewer
    )
    in_review_paid_at(NOW - timedelta(days=8), family=family, reviewer=unassigned_reviewer)
    sign_in(client, assigned_reviewer)

    response = my_reviews(client)

    cases = response.context["cases"]
    assert [case.request for case in cases] == [overdue, due_soon, on_track]
    # Calendar days in New York: due on the 18th, the 21st and the 25th; today is the 20th.
    assert [(case.days_left, case.urgency) for case in cases] == [
        (-2, "overdue"),
        (1, "due-soon"),
        (5, "on-track"),
    ]
    page = response.content.decode()
    assert "Overdue by 2 days" in page
    assert "1 day left" in page
    assert "5 days left" in page
    for gone in (removed, declined):
        assert gone.reference not in page


def test_a_case_due_later_today_is_due_soon(family, assigned_reviewer, client):
    in_review_paid_at(
        NOW - timedelta(days=7) + timedelta(hours=5), family=family, reviewer=assigned_reviewer
    )
    sign_in(client, assigned_reviewer)

    response = my_reviews(client)

    (case,) = response.context["cases"]
    assert (case.days_left, case.urgency) == (0, "due-soon")
    assert "Due today" in response.content.decode()


def test_a_case_past_its_review_shows_no_countdown(signed, client):
    request, (lead, _, _) = signed
    sign_in(client, lead)

    response = my_reviews(client)

    (case,) = response.context["cases"]
    assert (case.request, case.days_left, case.urgency) == (request, None, "on-track")
    assert "opinion submitted" in response.content.decode()


def signed_case_paid_at(paid_at, *, family, coordinator, lead):
    """A request paid at ``paid_at`` whose letter ``lead`` signed the next day."""
    with time_machine.travel(paid_at, tick=False) as clock:
        request = case_in_review(family=family, coordinator=coordinator, reviewers_required=1)
        services.review_assignment_add(review_request=request, reviewer=lead, is_lead=True)
        clock.shift(timedelta(days=1))
        services.opinion_submit(review_request=request, fields=OPINION, actor=lead)
        sign(request, lead)
    return request


def test_cases_still_in_review_come_before_finished_ones(
    family, coordinator, assigned_reviewer, client
):
    oldest = signed_case_paid_at(
        NOW - timedelta(days=40), family=family, coordinator=coordinator, lead=assigned_reviewer
    )
    latest = signed_case_paid_at(
        NOW - timedelta(days=20), family=family, coordinator=coordinator, lead=assigned_reviewer
    )
    current = in_review_paid_at(NOW - timedelta(days=1), family=family, reviewer=assigned_reviewer)
    sign_in(client, assigned_reviewer)

    response = my_reviews(client)

    # The case in review first; then the finished ones, the latest first.
    assert [case.request for case in response.context["cases"]] == [current, latest, oldest]


def test_finished_cases_come_a_page_at_a_time_and_the_case_in_review_on_every_page(
    family, coordinator, assigned_reviewer, client, monkeypatch
):
    monkeypatch.setattr(selectors, "FINISHED_SHOWN", 1)
    oldest = signed_case_paid_at(
        NOW - timedelta(days=40), family=family, coordinator=coordinator, lead=assigned_reviewer
    )
    latest = signed_case_paid_at(
        NOW - timedelta(days=20), family=family, coordinator=coordinator, lead=assigned_reviewer
    )
    current = in_review_paid_at(NOW - timedelta(days=1), family=family, reviewer=assigned_reviewer)
    sign_in(client, assigned_reviewer)

    first = my_reviews(client)
    with time_machine.travel(NOW, tick=False):
        second = client.get(reverse("reviews:my_reviews"), {"page": 2})

    assert [case.request for case in first.context["cases"]] == [current, latest]
    assert 'href="?page=2"' in first.content.decode()
    assert [case.request for case in second.context["cases"]] == [current, oldest]
    assert 'href="?page=1"' in second.content.decode()
    assert 'href="?page=3"' not in second.content.decode()


def test_my_reviews_costs_the_same_queries_for_one_case_or_many(family, assigned_reviewer, client):
    in_review_paid_at(NOW, family=family, reviewer=assigned_reviewer)
    sign_in(client, assigned_reviewer)
    my_reviews(client)  # the session settles on the first page
    with CaptureQueriesContext(connection) as one:
        my_reviews(client)
    for days in range(1, 6):
        in_review_paid_at(NOW - timedelta(days=days), family=family, reviewer=assigned_reviewer)

    with CaptureQueriesContext(connection) as six:
        response = my_reviews(client)

    assert len(response.context["cases"]) == 6
    assert len(six.captured_queries) == len(one.captured_queries)


def test_my_reviews_reads_the_holidays_once_for_any_number_of_cases(
    family, assigned_reviewer, client
):
    departments = [DepartmentFactory(review_days=ReviewDays.BUSINESS) for _ in range(3)]
    for department in departments:
        AvailabilityException.objects.create(department=department, date=date(2026, 3, 23))

    def add_case(days, department):
        request = in_review_paid_at(
            NOW - timedelta(days=days), family=family, reviewer=assigned_reviewer
        )
        ReviewService.objects.filter(pk=request.service_id).update(department=department)

    add_case(0, departments[0])
    sign_in(client, assigned_reviewer)
    my_reviews(client)
    with CaptureQueriesContext(connection) as one:
        my_reviews(client)
    for days in range(1, 6):
        add_case(days, departments[days % 3])

    with CaptureQueriesContext(connection) as six:
        response = my_reviews(client)

    assert len(response.context["cases"]) == 6
    assert len(six.captured_queries) == len(one.captured_queries)
    # Friday 20 March: Monday the 23rd is a holiday; paid today, due Friday the 27th.
    assert "4 business days left" in response.content.decode()


# --- The case -------------------------------------------------------------------------------


@pytest.fixture
def full_case(family, coordinator, published_service):
    """In review with everything a family sends: answers, consent and a PDF of records; a
    panel of one (the lead)."""
    published_service.reviewers_required = 1
    published_service.save(update_fields=["reviewers_required"])
    return case_in_review(
        family=family,
        coordinator=coordinator,
        service=published_service,
        record=True,
        answers={"back_pain": "yes", "other": "Worse after running."},
    )


def test_the_case_shows_what_the_panel_needs_and_not_who_the_child_is(
    full_case, assigned_reviewer, client
):
    services.review_assignment_add(
        review_request=full_case, reviewer=assigned_reviewer, is_lead=True
    )
    sign_in(client, assigned_reviewer)
    document = full_case.documents.get()
    previews = list(document.previews.order_by("series", "position"))

    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("reviews:case", args=[full_case.reference]))

    assert response.status_code == 200
    page = response.content.decode()
    for shown in (
        "11 years",  # born March 4, 2015
        "Female",
        DIAGNOSIS,
        TREATMENT,
        FAMILY_QUESTIONS,
        "Does your child have back pain?",
        "Worse after running.",
        "Anything else?",
        "Signed (Financial consent v1",
        document.original_name,
        reverse("records:document_file", args=[document.pk]),
    ):
        assert escape(shown) in page, shown
    assert previews
    for preview in previews:
        assert reverse("records:preview", args=[preview.pk]) in page
    for hidden in (CHILD_LAST_NAME, "2015", "March 4", "Jordan"):
        assert hidden not in page, hidden


def test_opening_the_case_is_written_to_the_access_log(panel, client):
    request, (lead, _, _) = panel
    sign_in(client, lead)

    client.get(reverse("reviews:case", args=[request.reference]))

    log = AccessLog.objects.get()
    assert (log.user, log.role, log.request_id, log.document_id, log.action, log.outcome) == (
        lead,
        "reviewer",
        request.pk,
        None,
        "view",
        "allowed",
    )


def test_a_case_without_a_signed_consent_says_so(panel, client):
    request, (lead, _, _) = panel
    sign_in(client, lead)

    response = client.get(reverse("reviews:case", args=[request.reference]))

    assert "Not signed." in response.content.decode()


# --- Nobody else reaches the workspace -----------------------------------------------------------

PAGES = ("reviews:case", "reviews:opinion", "reviews:decline", "reviews:final")
POSTED = ("reviews:autosave", "reviews:amend", "reviews:follow_up_answer")


@pytest.fixture
def asked(delivered, family):
    """A delivered case the family asked a question about (the lead leads it)."""
    request, reviewers = delivered
    follow_up = services.follow_up_ask(review_request=request, question="Sports?", actor=family)
    return request, reviewers, follow_up


def workspace_url(name, request, follow_up):
    if name == "reviews:follow_up_answer":
        return reverse(name, args=[request.reference, follow_up.pk])
    return reverse(name, args=[request.reference])


@pytest.mark.parametrize(
    "persona", ["family", "other_family", "coordinator", "admin_user", "unassigned_reviewer"]
)
def test_everyone_off_the_panel_gets_a_404_on_every_workspace_page(asked, request, persona):
    case, _, follow_up = asked
    client = sign_in(Client(), request.getfixturevalue(persona))

    statuses = {
        name: client.get(workspace_url(name, case, follow_up)).status_code for name in PAGES
    }
    statuses |= {
        name: client.post(workspace_url(name, case, follow_up)).status_code for name in POSTED
    }

    assert set(statuses.values()) == {404}, statuses
    if persona != "unassigned_reviewer":  # a reviewer's own list, empty
        assert client.get(reverse("reviews:my_reviews")).status_code == 404


def test_the_lead_reaches_every_workspace_page(asked):
    case, (lead, _, _), follow_up = asked
    client = sign_in(Client(), lead)

    statuses = {
        name: client.get(workspace_url(name, case, follow_up)).status_code for name in PAGES
    }

    assert statuses == dict.fromkeys(PAGES, 200)
    assert client.get(reverse("reviews:my_reviews")).status_code == 200


def test_anonymous_visitors_are_sent_to_sign_in(asked, client):
    case, _, follow_up = asked

    responses = [client.get(workspace_url(name, case, follow_up)) for name in PAGES]
    responses += [client.post(workspace_url(name, case, follow_up)) for name in POSTED]
    responses.append(client.get(reverse("reviews:my_reviews")))

    for response in responses:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))
