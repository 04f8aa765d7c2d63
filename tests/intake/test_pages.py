import pytest
from django.urls import reverse

from intake.lifecycle import Status
from intake.services import review_request_transition
from tests.conftest import sign_in
from tests.factories import DepartmentFactory, ReviewServiceFactory, review_request

pytestmark = pytest.mark.django_db


def test_the_front_page_says_what_a_review_costs_who_reads_it_and_when_it_comes(client):
    orthopedics = DepartmentFactory(name="Orthopedics", phone="404-555-0110")
    ReviewServiceFactory(
        department=orthopedics,
        name="Spine document review",
        fee_cents=50000,
        readers="three spine program leaders",
    )

    page = client.get(reverse("intake:catalogue")).content.decode()

    assert "Spine document review" in page
    assert "Read by three spine program leaders." in page
    assert "Flat fee of $500" in page
    assert "Insurance does not cover it." in page
    assert "within 7–10 days" in page
    assert "404-555-0110" in page
    assert "a referral from the pediatrician, medical records, imaging (X-ray, MRI, CT)." in page


def test_a_family_sees_only_its_own_requests(client, family, other_family):
    mine = review_request(family=family)
    theirs = review_request(family=other_family)
    sign_in(client, family)

    page = client.get(reverse("intake:my_requests")).content.decode()

    assert mine.reference in page
    assert theirs.reference not in page


def test_the_request_list_costs_the_same_queries_for_2_or_20_requests(
    client, family, django_assert_max_num_queries
):
    service = ReviewServiceFactory()
    for _ in range(2):
        review_request(family=family, service=service)
    sign_in(client, family)
    with django_assert_max_num_queries(50) as few:
        client.get(reverse("intake:my_requests"))
    for _ in range(18):
        review_request(family=family, service=service)

    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("intake:my_requests"))


def test_the_status_page_tells_the_story_in_plain_words_with_the_due_date(
    client, family, coordinator
):
    request = review_request(family=family, status=Status.SUBMITTED)
    sign_in(client, family)

    page = client.get(reverse("intake:request_detail", args=[request.reference])).content.decode()

    assert request.reference in page
    assert "You started this request." in page
    assert "The review clock is running." in page
    assert "Your written opinion is due by" in page


def test_while_waiting_on_the_family_the_page_shows_the_question_and_the_paused_clock(
    client, family, coordinator
):
    request = review_request(family=family, status=Status.SUBMITTED)
    review_request_transition(
        review_request=request,
        to_status=Status.NEEDS_INFO,
        actor=coordinator,
        note="Please send the MRI report from March.",
    )
    sign_in(client, family)

    page = client.get(reverse("intake:request_detail", args=[request.reference])).content.decode()

    assert "The team asked you for more information." in page
    assert "Please send the MRI report from March." in page
    assert "The review clock is paused" in page


def test_a_reviewer_sees_assigned_requests_nearest_deadline_first(
    client, family, assigned_reviewer, coordinator
):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from reviews.services import review_assignment_add

    with time_machine.travel(timezone.now() - timedelta(days=3)):
        older = review_request(family=family, status=Status.IN_REVIEW, actor=coordinator)
    newer = review_request(family=family, status=Status.IN_REVIEW, actor=coordinator)
    review_request(family=family, status=Status.IN_REVIEW, actor=coordinator)  # not assigned
    for request in (newer, older):
        review_assignment_add(review_request=request, reviewer=assigned_reviewer)
    sign_in(client, assigned_reviewer)

    cases = client.get(reverse("reviews:my_reviews")).context["cases"]

    assert [case.request.reference for case in cases] == [older.reference, newer.reference]


def test_a_reviewer_taken_off_a_panel_loses_the_request_on_the_next_page(
    client, family_request, assigned_reviewer
):
    from reviews.services import review_assignment_remove

    sign_in(client, assigned_reviewer)
    url = reverse("intake:request_detail", args=[family_request.reference])
    assert client.get(url).status_code == 200

    review_assignment_remove(assignment=family_request.assignments.get())

    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("status", "due", "paused"),
    [
        (Status.DRAFT, False, False),
        (Status.AWAITING_PAYMENT, False, False),
        (Status.SUBMITTED, True, False),
        (Status.NEEDS_INFO, False, True),
        (Status.IN_REVIEW, True, False),
        (Status.OPINION_READY, False, False),
        (Status.DELIVERED, False, False),
        (Status.CANCELLED, False, False),
        (Status.REFUNDED, False, False),
    ],
)
def test_the_due_date_is_promised_only_while_the_clock_runs(client, family, status, due, paused):
    request = review_request(family=family, status=status)
    sign_in(client, family)

    page = client.get(reverse("intake:request_detail", args=[request.reference])).content.decode()

    assert ("Your written opinion is due by" in page) is due
    assert ("The review clock is paused" in page) is paused
