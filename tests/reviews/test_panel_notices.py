"""Who is told what as a panel forms and finishes, and what the access log keeps."""

import pytest
from django.urls import reverse

from notifications.models import Message
from records.models import AccessLog
from reviews import services
from reviews.models import DeclineReason
from tests.conftest import sign_in
from tests.reviews.panel_setup import OPINION, deliver, pool_reviewer, submit_opinions

pytestmark = pytest.mark.django_db


def subjects_to(address):
    return list(Message.objects.filter(to=address).order_by("pk").values_list("subject", flat=True))


def test_each_reviewer_put_on_a_panel_is_told_without_patient_data(case, coordinator):
    reviewers = [pool_reviewer(case.service, f"Reviewer {n}") for n in range(3)]

    services.panel_set(
        review_request=case, reviewers=reviewers, lead=reviewers[0], actor=coordinator
    )

    for reviewer in reviewers:
        assert subjects_to(reviewer.email) == [f"You are on the panel of {case.reference}"]
    bodies = " ".join(Message.objects.values_list("body", flat=True))
    assert "Maya" not in bodies
    assert "Scoliosis" not in bodies


def test_the_final_opinion_waits_while_a_declined_seat_is_empty(panel):
    request, reviewers = panel
    services.assignment_decline(
        assignment=request.assignments.get(reviewer=reviewers[2]),
        reason=DeclineReason.CONFLICT,
        note="",
        actor=reviewers[2],
    )
    submit_opinions(request, reviewers[:2])

    with pytest.raises(services.ReviewClosed, match="panel must be complete"):
        services.final_opinion_save(
            review_request=request, fields={"conclusion": "agree"}, actor=reviewers[0]
        )

    assert (
        subjects_to(reviewers[0].email).count(
            f"{request.reference}: every opinion is in; the final opinion is yours to write"
        )
        == 0
    )


def test_an_amendment_does_not_tell_the_lead_again(panel):
    request, reviewers = panel
    submit_opinions(request, reviewers)
    services.opinion_amend(review_request=request, actor=reviewers[1])
    Message.objects.all().delete()

    services.opinion_submit(
        review_request=request,
        fields={**OPINION, "amendment_reason": "Read the MRI again."},
        actor=reviewers[1],
    )

    assert subjects_to(reviewers[0].email) == []
    assert Message.objects.count() == 0  # nobody else either


def test_the_letter_sent_to_the_pediatrician_is_in_the_access_log(signed, coordinator):
    request, _ = signed

    deliver(request, coordinator, channel="email")

    sent = AccessLog.objects.get(action=AccessLog.Action.SEND)
    assert sent.user == coordinator
    assert sent.request_id == request.pk
    assert sent.document_id == request.final_opinion.letter_id


def test_a_refused_visit_to_a_case_is_logged_against_it(client, panel, unassigned_reviewer):
    request, _ = panel
    sign_in(client, unassigned_reviewer)

    response = client.get(reverse("reviews:case", args=[request.reference]))

    assert response.status_code == 404
    refused = AccessLog.objects.get(user=unassigned_reviewer)
    assert refused.outcome == AccessLog.Outcome.DENIED
    assert refused.request_id == request.pk
