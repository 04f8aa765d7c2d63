"""A reviewer's opinion: drafts kept as typed (page and autosave), a submission that is final,
amendments as new versions, the lead told when the panel is complete, and nothing changing
once the review is over."""

import pytest
from django.test import Client
from django.urls import reverse

from intake.lifecycle import Status
from intake.services import review_request_transition
from notifications.models import Message
from reviews import selectors, services
from reviews.models import Opinion
from tests.conftest import sign_in
from tests.reviews.panel_setup import (
    CHILD_FIRST_NAME,
    CHILD_LAST_NAME,
    DIAGNOSIS,
    OPINION,
    pool_reviewer,
    submit_opinions,
)

pytestmark = pytest.mark.django_db

# The opinion as the page posts it (the hidden field says the next steps were on the page).
PAGE = {**OPINION, "next_steps_note": "", "next_steps_present": "1"}


def opinion_page(request):
    return reverse("reviews:opinion", args=[request.reference])


def autosave_url(request):
    return reverse("reviews:autosave", args=[request.reference])


def versions_of(request, reviewer) -> list[Opinion]:
    return list(
        Opinion.objects.filter(assignment__request=request, assignment__reviewer=reviewer).order_by(
            "version"
        )
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def member(panel, client):
    """The second member of the panel, signed in."""
    request, reviewers = panel
    return request, reviewers[1], sign_in(client, reviewers[1])


# --- Drafts --------------------------------------------------------------------------------


def test_saving_a_draft_from_the_page_keeps_what_was_typed(member):
    request, reviewer, client = member

    response = client.post(
        opinion_page(request),
        {"save": "", "agrees_with_diagnosis": "partly", "findings": "Curve of 24 degrees."},
    )

    assert response.status_code == 302
    (draft,) = versions_of(request, reviewer)
    assert (draft.version, draft.submitted_at) == (1, None)
    assert (draft.agrees_with_diagnosis, draft.findings) == ("partly", "Curve of 24 degrees.")
    page = client.get(opinion_page(request))
    assert "Your draft is saved." in messages_of(page)
    assert page.context["form"]["findings"].value() == "Curve of 24 degrees."
    assert page.context["form"]["agrees_with_diagnosis"].value() == "partly"


def test_the_autosave_keeps_each_answer_as_it_is_typed(member):
    request, reviewer, client = member

    first = client.post(autosave_url(request), {"findings": "Curve of 24 degrees."})
    second = client.post(
        autosave_url(request),
        {"recommendations": "Keep the brace.", "next_steps": ["tests"], "next_steps_present": "1"},
    )

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["saved"] is True
    assert "saved_at" in second.json()
    (draft,) = versions_of(request, reviewer)
    assert draft.findings == "Curve of 24 degrees."
    assert draft.recommendations == "Keep the brace."
    assert draft.next_steps == ["tests"]
    assert draft.submitted_at is None


def test_the_autosave_clears_the_next_steps_when_every_box_is_unticked(member):
    request, reviewer, client = member
    client.post(autosave_url(request), {"next_steps": ["tests"], "next_steps_present": "1"})

    client.post(autosave_url(request), {"next_steps_present": "1"})

    assert versions_of(request, reviewer)[0].next_steps == []


def test_an_invalid_answer_is_not_autosaved(member):
    request, reviewer, client = member

    response = client.post(autosave_url(request), {"agrees_with_plan": "maybe"})

    assert response.status_code == 400
    assert response.json()["saved"] is False
    assert versions_of(request, reviewer) == []


# --- Submitting ------------------------------------------------------------------------------


def test_submitting_an_incomplete_opinion_names_each_missing_answer_and_keeps_the_draft(member):
    request, reviewer, client = member

    response = client.post(
        opinion_page(request), {"submit": "", "findings": "Curve of 24 degrees."}
    )

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["agrees_with_diagnosis"] == [
        "Required to submit: agrees with the prior diagnosis."
    ]
    assert errors["agrees_with_plan"] == ["Required to submit: agrees with the care plan."]
    assert errors["recommendations"] == ["Required to submit: recommendations."]
    assert "findings" not in errors
    (draft,) = versions_of(request, reviewer)
    assert (draft.findings, draft.submitted_at) == ("Curve of 24 degrees.", None)


def test_a_submitted_opinion_is_final(member):
    request, reviewer, client = member

    response = client.post(opinion_page(request), {**PAGE, "submit": ""})

    assert response.status_code == 302
    (opinion,) = versions_of(request, reviewer)
    assert opinion.submitted_at is not None
    assert (opinion.findings, opinion.next_steps) == (OPINION["findings"], ["continue_care"])
    page = client.get(opinion_page(request))
    assert page.context["form"] is None
    assert "Submitted" in page.content.decode()


def test_an_autosave_after_submitting_is_refused_and_changes_nothing(member):
    request, reviewer, client = member
    services.opinion_submit(review_request=request, fields=OPINION, actor=reviewer)

    response = client.post(autosave_url(request), {"findings": "Changed my mind."})

    assert response.status_code == 409
    assert response.json() == {
        "saved": False,
        "error": "Your opinion is submitted; start an amendment to change it.",
    }
    (opinion,) = versions_of(request, reviewer)
    assert opinion.findings == OPINION["findings"]


def test_a_page_post_after_submitting_is_refused_with_a_message(member):
    request, reviewer, client = member
    services.opinion_submit(review_request=request, fields=OPINION, actor=reviewer)

    response = client.post(
        opinion_page(request), {**PAGE, "findings": "Changed my mind.", "submit": ""}, follow=True
    )

    assert "Your opinion is submitted; start an amendment to change it." in messages_of(response)
    (opinion,) = versions_of(request, reviewer)
    assert opinion.findings == OPINION["findings"]


# --- Amendments -----------------------------------------------------------------------------


def amend(client, request):
    return client.post(reverse("reviews:amend", args=[request.reference]))


def test_an_amendment_opens_version_two_filled_in_from_version_one(member):
    request, reviewer, client = member
    services.opinion_submit(review_request=request, fields=OPINION, actor=reviewer)

    response = amend(client, request)

    assert response["Location"] == opinion_page(request)
    first, second = versions_of(request, reviewer)
    assert (second.version, second.submitted_at, second.amendment_reason) == (2, None, "")
    assert second.findings == first.findings
    page = client.get(opinion_page(request))
    assert "Amendment: version 2" in page.content.decode()
    assert page.context["form"]["findings"].value() == OPINION["findings"]
    assert "amendment_reason" in page.context["form"].fields


def test_an_amendment_cannot_be_submitted_without_saying_why(member):
    request, reviewer, client = member
    services.opinion_submit(review_request=request, fields=OPINION, actor=reviewer)
    amend(client, request)

    response = client.post(
        opinion_page(request), {**PAGE, "agrees_with_plan": "partly", "submit": ""}
    )

    assert response.status_code == 400
    assert response.context["form"].errors["amendment_reason"] == [
        "Required to submit: why you amend your opinion."
    ]
    assert versions_of(request, reviewer)[1].submitted_at is None


def test_a_submitted_amendment_becomes_the_opinion_and_version_one_stays_as_it_was(member):
    request, reviewer, client = member
    services.opinion_submit(review_request=request, fields=OPINION, actor=reviewer)
    first_before = versions_of(request, reviewer)[0]
    amend(client, request)

    client.post(
        opinion_page(request),
        {
            **PAGE,
            "agrees_with_plan": "partly",
            "findings": "The curve grew to 31 degrees on the new film.",
            "amendment_reason": "A newer X-ray arrived.",
            "submit": "",
        },
    )

    first, second = versions_of(request, reviewer)
    assert second.submitted_at is not None
    assert (second.agrees_with_plan, second.amendment_reason) == (
        "partly",
        "A newer X-ray arrived.",
    )
    for name in (*services.OPINION_FIELDS, "submitted_at", "updated_at"):
        assert getattr(first, name) == getattr(first_before, name), name
    mine = next(
        m for m in selectors.panel_members(review_request=request) if m.reviewer == reviewer
    )
    assert (mine.opinion.version, mine.draft) == (2, None)


# --- The lead is told when the panel is complete --------------------------------------------


def test_the_lead_is_told_once_the_last_member_submits(panel):
    request, (lead, second, third) = panel
    submit_opinions(request, [lead, second])
    assert not Message.objects.filter(template="panel_complete").exists()

    services.opinion_submit(review_request=request, fields=OPINION, actor=third)

    message = Message.objects.get(template="panel_complete")
    assert message.to == lead.email
    assert reverse("reviews:case", args=[request.reference]) in message.body
    for private in (CHILD_FIRST_NAME, CHILD_LAST_NAME, DIAGNOSIS, OPINION["findings"]):
        assert private not in message.subject + message.body


def test_with_the_lead_gone_the_others_can_still_submit(panel, coordinator):
    request, (lead, second, third) = panel
    services.assignment_decline(
        assignment=request.assignments.get(reviewer=lead), reason="conflict", note="", actor=lead
    )

    submit_opinions(request, [second, third])

    assert all(m.submitted for m in selectors.panel_members(review_request=request))
    assert not Message.objects.filter(template="panel_complete").exists()


def test_the_new_lead_is_told_when_the_replacement_completes_the_panel(panel, coordinator):
    request, (lead, second, third) = panel
    services.assignment_decline(
        assignment=request.assignments.get(reviewer=lead), reason="conflict", note="", actor=lead
    )
    submit_opinions(request, [second, third])
    newcomer = pool_reviewer(request.service, "Newcomer")
    services.panel_set(
        review_request=request,
        reviewers=[second, third, newcomer],
        lead=second,
        actor=coordinator,
    )

    services.opinion_submit(review_request=request, fields=OPINION, actor=newcomer)

    assert list(Message.objects.filter(template="panel_complete").values_list("to", flat=True)) == [
        second.email
    ]


# --- Who may write, and when ---------------------------------------------------------------


def test_a_reviewer_not_on_the_panel_cannot_save_an_opinion(panel, unassigned_reviewer, client):
    request, _ = panel
    sign_in(client, unassigned_reviewer)

    page = client.post(opinion_page(request), {**PAGE, "save": ""})
    autosave = client.post(autosave_url(request), {"findings": "Mine."})

    assert (page.status_code, autosave.status_code) == (404, 404)
    with pytest.raises(services.ReviewClosed):
        services.opinion_draft_save(
            review_request=request, fields={"findings": "Mine."}, actor=unassigned_reviewer
        )
    assert not Opinion.objects.exists()


def test_a_reviewer_taken_off_the_panel_cannot_save_the_draft_they_started(member, coordinator):
    request, reviewer, client = member
    client.post(autosave_url(request), {"findings": "Started."})
    others = [m.reviewer for m in selectors.panel_members(review_request=request)]
    newcomer = pool_reviewer(request.service, "Newcomer")
    services.panel_set(
        review_request=request,
        reviewers=[r for r in others if r != reviewer] + [newcomer],
        lead=others[0],
        actor=coordinator,
        reason="Rebalanced the load.",
    )

    response = client.post(autosave_url(request), {"findings": "Carried on."})

    assert response.status_code == 404
    assert versions_of(request, reviewer)[0].findings == "Started."


def test_nothing_changes_once_the_request_has_left_review(member, coordinator):
    request, reviewer, client = member
    client.post(autosave_url(request), {"findings": "Started."})
    review_request_transition(review_request=request, to_status=Status.REFUNDED, actor=coordinator)

    autosave = client.post(autosave_url(request), {"findings": "Carried on."})
    page = client.post(opinion_page(request), {**PAGE, "submit": ""}, follow=True)

    assert autosave.status_code == 409
    assert autosave.json()["error"] == "This review is closed: the opinion can no longer change."
    assert "This review is closed: the opinion can no longer change." in messages_of(page)
    (draft,) = versions_of(request, reviewer)
    assert (draft.findings, draft.submitted_at) == ("Started.", None)


def test_no_amendment_once_the_letter_is_signed(signed):
    request, (_, second, _) = signed
    client = sign_in(Client(), second)

    response = amend(client, request)

    assert "This review is closed: the opinion can no longer change." in messages_of(
        client.get(response["Location"])
    )
    assert [opinion.version for opinion in versions_of(request, second)] == [1]


def test_an_answer_outside_the_choices_is_refused_on_the_page_and_nothing_is_saved(member):
    request, reviewer, client = member

    response = client.post(opinion_page(request), {**PAGE, "agrees_with_plan": "maybe", "save": ""})

    assert response.status_code == 400
    assert "agrees_with_plan" in response.context["form"].errors
    assert versions_of(request, reviewer) == []
