"""Every e-mail to a family is in its language, whoever or whatever queues it: the page it
booked on, its account, or a task days later with no page at all."""

import pytest
from django.urls import reverse
from django.utils import translation

from intake.lifecycle import Status
from intake.services import review_request_transition
from notifications.models import Message
from notifications.services import message_queue
from tests.factories import review_request

pytestmark = pytest.mark.django_db


def test_a_message_without_a_language_is_english_whatever_the_page_reads(family):
    with translation.override("es"):
        message = message_queue(
            to="coordinator@example.org",
            template="request_update",
            context={"reference": "SO-TEST-0001", "status_url": "https://x"},
        )

    assert message.language == "en"
    assert message.subject == "Update on your second-opinion request SO-TEST-0001"


def test_a_status_e_mail_follows_the_family_s_account_not_the_coordinator_s_page(
    family, coordinator
):
    family.language = "es"
    family.save(update_fields=["language"])
    request = review_request(family=family, status=Status.AWAITING_PAYMENT, actor=coordinator)

    with translation.override("en"):
        review_request_transition(
            review_request=request, to_status=Status.CANCELLED, actor=coordinator, note="Duplicate"
        )

    message = Message.objects.get(template="request_update")
    assert message.language == "es"
    assert message.subject == f"Novedades sobre su solicitud de segunda opinión {request.reference}"
    assert reverse("intake:request_detail", args=[request.reference]) in message.body
