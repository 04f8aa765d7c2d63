"""Delivery: the coordinator records reaching the family and delivers from the admin; the
family is told without medical content and reads the summary and the letter on its status
page; the pediatrician gets the letter only with the family's consent."""

import base64

import pytest
from django.urls import reverse
from django.utils.html import escape

from intake.lifecycle import Status
from intake.models import ReferringPediatrician
from notifications.models import Message
from records.models import AccessLog
from reviews.models import Delivery, FinalOpinion
from tests.conftest import sign_in
from tests.reviews.panel_setup import (
    CHILD_FIRST_NAME,
    CHILD_LAST_NAME,
    DIAGNOSIS,
    FINAL,
    PEDIATRICIAN_EMAIL,
)

pytestmark = pytest.mark.django_db

PRIVATE = (
    CHILD_FIRST_NAME,
    CHILD_LAST_NAME,
    DIAGNOSIS,
    FINAL["family_summary"],
    FINAL["recommendations"],
    "Agrees with the previous diagnosis",
)


def deliver_page(request):
    return reverse("admin:reviews_deliver", args=[request.pk])


def post_delivery(client, request, channel="email", **changes):
    data = {
        "outreach_method": "call",
        "outreach_note": "Spoke with the mother; she has the link.",
        "pediatrician_channel": channel,
        **changes,
    }
    return client.post(deliver_page(request), data)


def letter_of(request):
    return FinalOpinion.objects.select_related("letter").get(request=request).letter


def stored_bytes(tmp_path, document) -> bytes:
    return (tmp_path / "files" / document.storage_key).read_bytes()


def assert_private_details_absent(message):
    for private in PRIVATE:
        assert private not in message.subject + message.body, private


@pytest.fixture
def coordinator_client(client, coordinator):
    return sign_in(client, coordinator)


# --- The coordinator delivers ----------------------------------------------------------------


def test_the_delivery_page_shows_the_letter_and_the_familys_consent(signed, coordinator_client):
    request, _ = signed

    response = coordinator_client.get(deliver_page(request))

    assert response.status_code == 200
    page = response.content.decode()
    assert escape(FINAL["family_summary"]) in page
    assert reverse("records:document_file", args=[letter_of(request).pk]) in page
    assert "The family agreed to share the letter with Dr. Ana Ortiz" in page


def test_there_is_nothing_to_deliver_before_the_letter_is_signed(submitted, coordinator_client):
    request, _ = submitted

    assert coordinator_client.get(deliver_page(request)).status_code == 404


def test_the_coordinator_delivers_and_the_family_is_told_without_medical_content(
    signed, coordinator_client, coordinator, family
):
    request, _ = signed
    earlier = list(Message.objects.values_list("pk", flat=True))

    response = post_delivery(coordinator_client, request, channel="")

    assert response["Location"] == reverse("admin:intake_reviewrequest_change", args=[request.pk])
    request.refresh_from_db()
    assert request.status == Status.DELIVERED
    assert request.delivered_at is not None
    delivery = Delivery.objects.get()
    assert (
        delivery.request,
        delivery.coordinator,
        delivery.outreach_method,
        delivery.outreach_note,
        delivery.pediatrician_channel,
    ) == (request, coordinator, "call", "Spoke with the mother; she has the link.", "")
    message = Message.objects.exclude(pk__in=earlier).get(to=family.email)
    assert message.template == "request_update"
    assert reverse("intake:request_detail", args=[request.reference]) in message.body
    assert_private_details_absent(message)
    assert not Message.objects.filter(to=PEDIATRICIAN_EMAIL).exists()


def test_with_consent_the_pediatrician_is_e_mailed_the_letter(signed, coordinator_client, tmp_path):
    request, _ = signed

    post_delivery(coordinator_client, request, channel="email")

    message = Message.objects.get(to=PEDIATRICIAN_EMAIL)
    assert message.template == "opinion_to_pediatrician"
    (attachment,) = message.attachments
    letter = letter_of(request)
    assert (attachment["filename"], attachment["mimetype"]) == (
        letter.original_name,
        "application/pdf",
    )
    assert base64.b64decode(attachment["content_base64"]) == stored_bytes(tmp_path, letter)
    assert_private_details_absent(message)
    assert Delivery.objects.get().pediatrician_channel == "email"


def test_a_fax_to_the_pediatrician_is_recorded_and_nothing_is_e_mailed(signed, coordinator_client):
    request, _ = signed

    post_delivery(coordinator_client, request, channel="fax")

    assert Delivery.objects.get().pediatrician_channel == "fax"
    assert not Message.objects.filter(to=PEDIATRICIAN_EMAIL).exists()
    request.refresh_from_db()
    assert request.status == Status.DELIVERED


@pytest.mark.parametrize("channel", ["email", "fax"])
def test_without_the_familys_consent_the_letter_is_not_sent_to_the_pediatrician(
    signed, coordinator_client, channel
):
    request, _ = signed
    ReferringPediatrician.objects.filter(request=request).update(share_opinion=False)

    response = post_delivery(coordinator_client, request, channel=channel)

    assert response.status_code == 400
    assert "The family did not agree to share the letter" in response.content.decode()
    form = response.context["form"]
    assert form["pediatrician_channel"].value() == channel
    assert form["outreach_note"].value() == "Spoke with the mother; she has the link."
    request.refresh_from_db()
    assert request.status == Status.OPINION_READY
    assert not Delivery.objects.exists()
    assert not Message.objects.filter(to=PEDIATRICIAN_EMAIL).exists()


def test_an_e_mail_to_a_pediatrician_without_an_address_is_refused(signed, coordinator_client):
    request, _ = signed
    ReferringPediatrician.objects.filter(request=request).update(email="")

    response = post_delivery(coordinator_client, request, channel="email")

    assert response.status_code == 400
    assert "no e-mail address on file" in response.content.decode()
    assert not Delivery.objects.exists()


def test_an_opinion_is_delivered_once(delivered, coordinator_client):
    request, _ = delivered

    page = coordinator_client.get(deliver_page(request))
    post = post_delivery(coordinator_client, request, channel="")

    assert "is delivered" in page.content.decode()
    assert "Deliver the opinion" not in page.content.decode().split("</h1>", 1)[-1]
    assert post.status_code == 400
    assert "is delivered" in post.content.decode()
    assert Delivery.objects.count() == 1


# --- What the family sees ---------------------------------------------------------------------


def test_before_delivery_the_family_sees_neither_the_summary_nor_the_letter(signed, client, family):
    request, _ = signed
    sign_in(client, family)

    page = client.get(reverse("intake:request_detail", args=[request.reference]))
    letter = client.get(reverse("records:document_file", args=[letter_of(request).pk]))

    assert "Your written opinion is ready. Your coordinator will contact you." in (
        page.content.decode()
    )
    assert escape(FINAL["family_summary"]) not in page.content.decode()
    assert letter.status_code == 404


def test_once_delivered_the_family_reads_the_summary_and_downloads_the_letter(
    delivered, client, family, tmp_path
):
    request, _ = delivered
    letter = letter_of(request)
    sign_in(client, family)
    AccessLog.objects.all().delete()

    page = client.get(reverse("intake:request_detail", args=[request.reference]))
    download = client.get(reverse("records:document_file", args=[letter.pk]), {"download": "1"})

    assert escape(FINAL["family_summary"]) in page.content.decode()
    download_url = reverse("records:document_file", args=[letter.pk]) + "?download=1"
    assert download_url in page.content.decode()
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == stored_bytes(tmp_path, letter)
    log = AccessLog.objects.get()
    assert (log.user, log.document_id, log.request_id, log.action, log.outcome) == (
        family,
        letter.pk,
        request.pk,
        "download",
        "allowed",
    )


def test_another_family_cannot_reach_the_letter_or_the_status_page(delivered, client, other_family):
    request, _ = delivered
    sign_in(client, other_family)

    page = client.get(reverse("intake:request_detail", args=[request.reference]))
    letter = client.get(reverse("records:document_file", args=[letter_of(request).pk]))

    assert (page.status_code, letter.status_code) == (404, 404)
    denied = AccessLog.objects.get(user=other_family)
    assert (denied.document_id, denied.outcome) == (letter_of(request).pk, "denied")


def test_reading_the_letter_in_the_admin_is_logged(signed, coordinator_client, coordinator):
    request, _ = signed
    final = FinalOpinion.objects.get(request=request)
    AccessLog.objects.all().delete()

    delivery = coordinator_client.get(deliver_page(request))
    opinion = coordinator_client.get(reverse("admin:reviews_finalopinion_change", args=[final.pk]))

    assert (delivery.status_code, opinion.status_code) == (200, 200)
    reads = AccessLog.objects.values_list("user", "request_id", "action", "outcome")
    assert list(reads) == [(coordinator.pk, request.pk, "view", "allowed")] * 2
