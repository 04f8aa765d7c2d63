"""Panels: the least-loaded suggestion, the rules of a panel, changes that end access at
once, and reviewers who decline; the coordinator's panel page in the admin."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from intake.lifecycle import Status
from intake.services import review_request_transition
from notifications.models import Message
from reviews import selectors, services
from reviews.models import ReviewAssignment
from tests.conftest import sign_in
from tests.factories import DepartmentFactory, ReviewServiceFactory, review_request, staff_user
from tests.reviews.panel_setup import (
    CHILD_FIRST_NAME,
    CHILD_LAST_NAME,
    DIAGNOSIS,
    OPINION,
    case_in_review,
    pool_reviewer,
)

pytestmark = pytest.mark.django_db


def busy_with(reviewer, count, *, family, status=Status.IN_REVIEW):
    """Give ``reviewer`` ``count`` assignments on other requests in ``status``."""
    for _ in range(count):
        other = review_request(family=family, status=status)
        services.review_assignment_add(review_request=other, reviewer=reviewer)


def active_panel(request) -> dict[str, bool]:
    """Who is on the panel now, by name, and whether they lead."""
    return {
        member.reviewer.full_name: member.is_lead
        for member in selectors.panel_members(review_request=request)
    }


# --- The suggestion ----------------------------------------------------------------------


def test_the_suggestion_is_the_least_loaded_reviewers_with_ties_going_to_the_earliest(case, family):
    busy = pool_reviewer(case.service, "Busy")
    light = pool_reviewer(case.service, "Light")
    idle_first = pool_reviewer(case.service, "Idle first")
    idle_second = pool_reviewer(case.service, "Idle second")
    busy_with(busy, 2, family=family)
    busy_with(light, 1, family=family)

    suggested = selectors.panel_suggest(review_request=case)

    assert [reviewer.full_name for reviewer in suggested] == ["Idle first", "Idle second", "Light"]
    assert [reviewer.open_reviews for reviewer in suggested] == [0, 0, 1]
    assert idle_first.pk < idle_second.pk


def test_only_open_assignments_on_requests_in_review_count_as_load(case, family):
    finished = pool_reviewer(case.service, "Finished")
    removed = pool_reviewer(case.service, "Removed elsewhere")
    working = pool_reviewer(case.service, "Working")
    pool_reviewer(case.service, "Fresh")
    busy_with(finished, 3, family=family, status=Status.DELIVERED)
    busy_with(finished, 1, family=family, status=Status.SUBMITTED)
    busy_with(removed, 2, family=family)
    for assignment in ReviewAssignment.objects.filter(reviewer=removed):
        services.review_assignment_remove(assignment=assignment, reason="Rebalanced.")
    busy_with(working, 1, family=family)

    suggested = selectors.panel_suggest(review_request=case)

    assert [reviewer.full_name for reviewer in suggested] == [
        "Finished",
        "Removed elsewhere",
        "Fresh",
    ]
    loads = {r.full_name: r.open_reviews for r in selectors.panel_eligible(review_request=case)}
    assert loads == {"Finished": 0, "Removed elsewhere": 0, "Working": 1, "Fresh": 0}


def test_unavailable_reviewers_and_reviewers_outside_the_pool_are_not_suggested(case):
    pool_reviewer(case.service, "On leave", available=False)
    pool_reviewer(ReviewServiceFactory(), "Other service")
    staff_user(Role.REVIEWER, full_name="In no pool")
    pool_reviewer(case.service, "Available")

    suggested = selectors.panel_suggest(review_request=case)

    assert [reviewer.full_name for reviewer in suggested] == ["Available"]


def test_someone_who_declined_or_was_taken_off_this_request_is_not_suggested_again(
    panel, coordinator
):
    request, (lead, declining, removed) = panel
    pool_reviewer(request.service, "Newcomer one")
    pool_reviewer(request.service, "Newcomer two")
    services.assignment_decline(
        assignment=request.assignments.get(reviewer=declining),
        reason="conflict",
        note="",
        actor=declining,
    )
    services.review_assignment_remove(
        assignment=request.assignments.get(reviewer=removed), actor=coordinator, reason="Away."
    )

    suggested = selectors.panel_suggest(review_request=request)

    # The lead's seat on this very request counts as one open review.
    assert [reviewer.full_name for reviewer in suggested] == [
        "Newcomer one",
        "Newcomer two",
        lead.full_name,
    ]


# --- The rules of a panel -----------------------------------------------------------------


@pytest.fixture
def pool(case):
    """Four reviewers in the pool of ``case``'s service."""
    return [pool_reviewer(case.service, name) for name in ("Ana", "Ben", "Cara", "Dev")]


@pytest.mark.parametrize("size", [2, 4])
def test_a_panel_has_exactly_the_number_of_reviewers_the_service_needs(
    case, pool, coordinator, size
):
    with pytest.raises(services.PanelError, match="choose exactly 3"):
        services.panel_set(
            review_request=case, reviewers=pool[:size], lead=pool[0], actor=coordinator
        )

    assert not ReviewAssignment.objects.exists()


def test_the_lead_must_be_on_the_panel(case, pool, coordinator):
    with pytest.raises(services.PanelError, match="lead must be one of the panel"):
        services.panel_set(review_request=case, reviewers=pool[:3], lead=pool[3], actor=coordinator)

    assert not ReviewAssignment.objects.exists()


def test_every_reviewer_must_be_in_the_service_pool(case, pool, coordinator):
    outsider = pool_reviewer(ReviewServiceFactory(), "Outsider")

    with pytest.raises(services.PanelError, match=f"Not in the pool of .*: {outsider.email}"):
        services.panel_set(
            review_request=case, reviewers=[*pool[:2], outsider], lead=pool[0], actor=coordinator
        )

    assert not ReviewAssignment.objects.exists()


def test_an_unavailable_reviewer_may_still_be_chosen_by_hand(case, pool, coordinator):
    on_leave = pool_reviewer(case.service, "On leave", available=False)

    services.panel_set(
        review_request=case, reviewers=[*pool[:2], on_leave], lead=on_leave, actor=coordinator
    )

    assert active_panel(case) == {"On leave": True, "Ana": False, "Ben": False}


@pytest.mark.parametrize("status", [Status.SUBMITTED, Status.OPINION_READY])
def test_a_panel_is_set_only_while_the_request_is_in_review(family, coordinator, status):
    service = ReviewServiceFactory(reviewers_required=1)
    request = review_request(family=family, status=status, service=service, actor=coordinator)
    reviewer = pool_reviewer(service, "Ana")

    with pytest.raises(services.ReviewClosed, match="is not in review"):
        services.panel_set(
            review_request=request, reviewers=[reviewer], lead=reviewer, actor=coordinator
        )

    assert not ReviewAssignment.objects.exists()


def test_taking_someone_off_the_panel_needs_a_reason(panel, coordinator):
    request, (lead, second, _) = panel
    newcomer = pool_reviewer(request.service, "Newcomer")

    with pytest.raises(services.PanelError, match="Say why"):
        services.panel_set(
            review_request=request,
            reviewers=[lead, second, newcomer],
            lead=lead,
            actor=coordinator,
            reason="   ",
        )

    assert active_panel(request) == {
        lead.full_name: True,
        second.full_name: False,
        "Cara Nwosu": False,
    }


def test_a_reassignment_keeps_the_old_assignment_with_who_ended_it_and_why(panel, coordinator):
    request, (lead, second, third) = panel
    newcomer = pool_reviewer(request.service, "Newcomer")

    services.panel_set(
        review_request=request,
        reviewers=[lead, second, newcomer],
        lead=lead,
        actor=coordinator,
        reason="Third reviewer on leave.",
    )

    old = ReviewAssignment.objects.get(request=request, reviewer=third)
    assert old.removed_at is not None
    assert (old.removed_by, old.removal_reason, old.is_lead) == (
        coordinator,
        "Third reviewer on leave.",
        False,
    )
    assert active_panel(request) == {
        lead.full_name: True,
        second.full_name: False,
        "Newcomer": False,
    }
    assert ReviewAssignment.objects.filter(request=request).count() == 4


def test_the_lead_can_change_within_the_panel(panel, coordinator):
    request, (lead, second, third) = panel

    services.panel_set(
        review_request=request, reviewers=[lead, second, third], lead=third, actor=coordinator
    )

    assert active_panel(request) == {
        third.full_name: True,
        lead.full_name: False,
        second.full_name: False,
    }
    assert not ReviewAssignment.objects.filter(removed_at__isnull=False).exists()


def test_the_lead_can_be_replaced_by_a_newcomer_who_then_leads(panel, coordinator):
    request, (_, second, third) = panel
    newcomer = pool_reviewer(request.service, "Newcomer")

    services.panel_set(
        review_request=request,
        reviewers=[newcomer, second, third],
        lead=newcomer,
        actor=coordinator,
        reason="The lead is on leave.",
    )

    assert active_panel(request) == {
        "Newcomer": True,
        second.full_name: False,
        third.full_name: False,
    }
    assert ReviewAssignment.objects.filter(request=request, is_lead=True).count() == 1


# --- Access ends on the next request -------------------------------------------------------


def test_a_reviewer_taken_off_the_panel_loses_the_case_and_its_files_on_the_next_request(
    family, coordinator, client
):
    request = case_in_review(family=family, coordinator=coordinator, record=True)
    reviewers = [pool_reviewer(request.service, name) for name in ("Ana", "Ben", "Cara")]
    services.panel_set(
        review_request=request, reviewers=reviewers, lead=reviewers[0], actor=coordinator
    )
    document = request.documents.get()
    urls = [
        reverse("reviews:case", args=[request.reference]),
        reverse("records:document_file", args=[document.pk]),
        reverse("records:preview", args=[document.previews.first().pk]),
    ]
    leaving = sign_in(client, reviewers[2])
    assert [leaving.get(url).status_code for url in urls] == [200, 200, 200]
    newcomer = pool_reviewer(request.service, "Newcomer")

    services.panel_set(
        review_request=request,
        reviewers=[*reviewers[:2], newcomer],
        lead=reviewers[0],
        actor=coordinator,
        reason="Conflict of interest found.",
    )

    assert [leaving.get(url).status_code for url in urls] == [404, 404, 404]
    joining = sign_in(Client(), newcomer)
    assert [joining.get(url).status_code for url in urls] == [200, 200, 200]


# --- Declining ---------------------------------------------------------------------------


def decline(client, request, **data):
    return client.post(reverse("reviews:decline", args=[request.reference]), data)


def test_a_reviewer_declines_and_cannot_open_the_case_any_more(panel, client):
    request, (lead, second, third) = panel
    sign_in(client, second)

    response = decline(client, request, reason="conflict", note="")

    assert response.status_code == 302
    assert response["Location"] == reverse("reviews:my_reviews")
    assignment = ReviewAssignment.objects.get(request=request, reviewer=second)
    assert assignment.removed_at is not None
    assert (assignment.decline_reason, assignment.removed_by) == ("conflict", second)
    assert client.get(reverse("reviews:case", args=[request.reference])).status_code == 404
    assert active_panel(request) == {lead.full_name: True, third.full_name: False}


def test_declining_needs_a_reason(panel, client):
    request, (_, second, _) = panel
    sign_in(client, second)

    response = decline(client, request, note="Busy.")

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert ReviewAssignment.objects.get(reviewer=second).removed_at is None


def test_declining_for_another_reason_needs_a_note(panel, client):
    request, (_, second, _) = panel
    sign_in(client, second)

    response = decline(client, request, reason="other", note="  ")

    assert response.status_code == 400
    assert "Say why you decline." in response.content.decode()
    assert response.context["form"]["reason"].value() == "other"
    assert ReviewAssignment.objects.get(reviewer=second).removed_at is None


def test_a_decline_alerts_the_department_inbox_without_patient_data(family, coordinator):
    department = DepartmentFactory(alerts_email="spine.alerts@example.org")
    service = ReviewServiceFactory(department=department, reviewers_required=1)
    request = case_in_review(family=family, coordinator=coordinator, service=service)
    reviewer = pool_reviewer(service, "Ana")
    services.panel_set(
        review_request=request, reviewers=[reviewer], lead=reviewer, actor=coordinator
    )

    services.assignment_decline(
        assignment=request.assignments.get(),
        reason="other",
        note="I treated this child before.",
        actor=reviewer,
    )

    message = Message.objects.get(template="assignment_declined")
    assert message.to == "spine.alerts@example.org"
    assert request.reference in message.body
    admin_path = reverse("admin:intake_reviewrequest_change", args=[request.pk])
    assert f"http://testserver{admin_path}" in message.body
    for private in (CHILD_FIRST_NAME, CHILD_LAST_NAME, DIAGNOSIS, "treated this child"):
        assert private not in message.subject + message.body


def test_without_a_department_inbox_every_active_coordinator_hears_of_a_decline(panel, coordinator):
    request, (_, second, _) = panel
    colleague = staff_user(Role.COORDINATOR, email="colleague@example.org")
    former = staff_user(Role.COORDINATOR, email="former@example.org", is_active=False)

    services.assignment_decline(
        assignment=request.assignments.get(reviewer=second),
        reason="unavailable",
        note="",
        actor=second,
    )

    recipients = Message.objects.filter(template="assignment_declined").values_list("to", flat=True)
    assert sorted(recipients) == sorted([coordinator.email, colleague.email])
    assert former.email not in recipients


def test_a_reviewer_who_submitted_an_opinion_cannot_decline(panel, client):
    request, (_, second, _) = panel
    services.opinion_submit(review_request=request, fields=OPINION, actor=second)
    sign_in(client, second)

    response = decline(client, request, reason="unavailable")

    assert response.status_code == 400
    assert "You have submitted an opinion" in response.content.decode()
    assert ReviewAssignment.objects.get(reviewer=second).removed_at is None
    assert not Message.objects.filter(template="assignment_declined").exists()


# --- The coordinator's panel page -------------------------------------------------------------


def ticked(response, name: str) -> list[int]:
    """The values of the inputs called ``name`` that the page shows checked."""
    inputs = re.findall(rf'<input[^>]*name="{name}"[^>]*>', response.content.decode())
    return sorted(int(re.search(r'value="(\d+)"', tag)[1]) for tag in inputs if " checked" in tag)


def panel_page(request):
    return reverse("admin:reviews_panel", args=[request.pk])


def test_the_panel_page_ticks_the_suggestion_and_makes_its_first_reviewer_lead(
    case, client, coordinator, family
):
    ana, ben, cara, dev = (pool_reviewer(case.service, name) for name in ("A", "B", "C", "D"))
    busy_with(ben, 1, family=family)
    sign_in(client, coordinator)

    response = client.get(panel_page(case))

    assert response.status_code == 200
    assert ticked(response, "reviewers") == sorted([ana.pk, cara.pk, dev.pk])
    assert ticked(response, "lead") == [ana.pk]
    assert "1 open review" in response.content.decode()


def test_the_panel_page_saves_the_panel(case, pool, client, coordinator):
    _, ben, cara, dev = pool
    sign_in(client, coordinator)

    response = client.post(
        panel_page(case), {"reviewers": [ben.pk, cara.pk, dev.pk], "lead": cara.pk}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:intake_reviewrequest_change", args=[case.pk])
    assert active_panel(case) == {"Cara": True, "Ben": False, "Dev": False}
    assert set(ReviewAssignment.objects.values_list("assigned_by", flat=True)) == {coordinator.pk}


def test_the_panel_page_shows_the_current_panel_ticked(panel, client, coordinator):
    request, (lead, second, third) = panel
    sign_in(client, coordinator)

    response = client.get(panel_page(request))

    assert ticked(response, "reviewers") == sorted([lead.pk, second.pk, third.pk])
    assert ticked(response, "lead") == [lead.pk]


def test_a_refused_panel_is_explained_and_the_choice_kept(case, pool, client, coordinator):
    ana, ben, _, _ = pool
    sign_in(client, coordinator)

    response = client.post(panel_page(case), {"reviewers": [ana.pk, ben.pk], "lead": ben.pk})

    assert response.status_code == 400
    assert "choose exactly 3" in response.content.decode()
    assert ticked(response, "reviewers") == sorted([ana.pk, ben.pk])
    assert ticked(response, "lead") == [ben.pk]
    assert not ReviewAssignment.objects.exists()


def test_a_change_without_a_reason_is_refused_on_the_panel_page(panel, client, coordinator):
    request, (lead, second, third) = panel
    newcomer = pool_reviewer(request.service, "Newcomer")
    sign_in(client, coordinator)
    data = {"reviewers": [lead.pk, second.pk, newcomer.pk], "lead": lead.pk}

    refused = client.post(panel_page(request), data)
    saved = client.post(panel_page(request), {**data, "reason": "Away for a month."})

    assert refused.status_code == 400
    assert "Say why reviewers are taken off the panel" in refused.content.decode()
    assert saved.status_code == 302
    assert active_panel(request) == {
        lead.full_name: True,
        second.full_name: False,
        "Newcomer": False,
    }
    assert request.assignments.get(reviewer=third).removal_reason == "Away for a month."


def test_the_panel_page_refuses_a_change_once_the_opinion_is_signed(signed, client, coordinator):
    request, (lead, second, third) = signed
    sign_in(client, coordinator)

    response = client.post(
        panel_page(request),
        {"reviewers": [lead.pk, second.pk, third.pk], "lead": second.pk},
    )

    assert response.status_code == 400
    assert "is not in review" in response.content.decode()
    assert active_panel(request)[lead.full_name] is True


def test_a_refund_during_the_review_leaves_the_panel_as_it_was(panel, coordinator):
    request, (lead, second, third) = panel
    review_request_transition(review_request=request, to_status=Status.REFUNDED, actor=coordinator)

    with pytest.raises(services.ReviewClosed):
        services.panel_set(
            review_request=request, reviewers=[lead, second, third], lead=third, actor=coordinator
        )

    assert active_panel(request) == {
        lead.full_name: True,
        second.full_name: False,
        third.full_name: False,
    }
