"""The whole review, through the services: panel, opinions, the signed letter, delivery."""

from intake.lifecycle import Status
from records.models import Document
from reviews import services
from reviews.models import FinalOpinion
from tests.reviews.panel_setup import FINAL, OPINION


def test_a_panel_reviews_signs_and_the_coordinator_delivers(panel, coordinator):
    request, reviewers = panel

    for reviewer in reviewers:
        services.opinion_submit(review_request=request, fields=OPINION, actor=reviewer)
    final = services.final_opinion_sign(
        review_request=request, fields=FINAL, signed_name="Ana Lopez", actor=reviewers[0]
    )
    services.opinion_deliver(
        review_request=request,
        outreach_method="call",
        outreach_note="Spoke with the mother.",
        pediatrician_channel="email",
        actor=coordinator,
    )

    request.refresh_from_db()
    assert request.status == Status.DELIVERED
    final = FinalOpinion.objects.get(pk=final.pk)
    assert final.letter.kind == "opinion"
    assert Document.objects.get(pk=final.letter_id).file_type == "application/pdf"
