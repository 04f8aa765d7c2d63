"""A family a coordinator started a request for by phone is invited in the language the
coordinator picked: the e-mail, its reminder, the page the link opens, and the account it
creates."""

import pytest
from django.urls import reverse

from accounts.models import User
from intake.models import Invitation
from tests.conftest import sign_in
from tests.intake.invitation_setup import (
    CHILD_BIRTH_DATE,
    FAMILY_EMAIL,
    NEW_PASSWORD,
    last_message,
    phone_request,
    send,
)

pytestmark = pytest.mark.django_db


def test_the_coordinator_picks_spanish_and_the_invitation_and_its_page_are_in_spanish(
    client, coordinator, published_service
):
    sign_in(client, coordinator)
    request = phone_request(coordinator, published_service)
    request.language = "es"
    request.save(update_fields=["language"])
    invitation, link = send(request, Invitation.Kind.FAMILY, FAMILY_EMAIL, coordinator)
    client.logout()

    page = client.get(link).content.decode()
    client.post(
        link,
        {
            "full_name": "Avery Parker",
            "password": NEW_PASSWORD,
            "child_date_of_birth": CHILD_BIRTH_DATE,
        },
    )

    message = last_message(Invitation.Kind.FAMILY)
    assert invitation.language == "es"
    assert message.language == "es"
    assert message.subject.startswith("Termine su solicitud de segunda opinión")
    assert '<html lang="es">' in page
    assert "Termine su solicitud de segunda opinión" in page
    assert User.objects.get(email=FAMILY_EMAIL).language == "es"


def test_the_start_form_records_the_family_s_language(client, coordinator, published_service):
    from tests.intake.test_phone_led import ON_THE_PHONE

    sign_in(client, coordinator)

    response = client.post(
        reverse("admin:intake_reviewrequest_start"),
        {**ON_THE_PHONE, "service": published_service.pk, "language": "es"},
    )

    assert response.status_code == 302
    assert published_service.requests.get().language == "es"


def test_a_browser_that_chose_english_reads_the_invitation_in_english(
    client, coordinator, published_service
):
    request = phone_request(coordinator, published_service)
    request.language = "es"
    request.save(update_fields=["language"])
    _invitation, link = send(request, Invitation.Kind.FAMILY, FAMILY_EMAIL, coordinator)
    client.cookies["portal_language"] = "en"

    assert '<html lang="en">' in client.get(link).content.decode()
