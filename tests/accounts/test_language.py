"""The language switch on every page: no account needed, remembered on a family's account
(on every device it signs in from), never applied to staff pages."""

import pytest
from django.urls import reverse

from notifications.models import Message
from tests.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def switch(client, language, next_url="/"):
    return client.post(reverse("accounts:language"), {"language": language, "next": next_url})


def test_an_anonymous_visitor_switches_to_spanish_and_stays_on_the_page(client):
    response = switch(client, "es", next_url="/calls/")

    assert response.status_code == 302
    assert response["Location"] == "/calls/"
    page = client.get("/").content.decode()
    assert '<html lang="es">' in page
    assert "Reservar una llamada gratis" in page
    assert 'value="en" lang="en"' in page  # the way back, named in its own language


def test_the_switch_is_on_every_page_in_the_other_language(client):
    page = client.get("/").content.decode()

    assert '<html lang="en">' in page
    assert 'name="language" value="es" lang="es"' in page
    assert "Book a free call" in page


def test_a_browser_asking_for_spanish_gets_spanish_until_the_switch_says_otherwise(client):
    assert (
        '<html lang="es">'
        in client.get("/", HTTP_ACCEPT_LANGUAGE="es-US,es;q=0.9").content.decode()
    )

    switch(client, "en")

    assert '<html lang="en">' in client.get("/", HTTP_ACCEPT_LANGUAGE="es").content.decode()


def test_an_unknown_language_changes_nothing(client, family):
    sign_in(client, family)

    switch(client, "fr")

    family.refresh_from_db()
    assert family.language == "en"
    assert '<html lang="en">' in client.get("/").content.decode()


def test_a_family_choice_is_kept_on_the_account_and_follows_it_to_another_device(
    client, family, django_user_model
):
    sign_in(client, family)

    switch(client, "es")

    family.refresh_from_db()
    assert family.language == "es"
    other_device = client.__class__()
    other_device.post(reverse("accounts:login"), {"username": family.email, "password": PASSWORD})
    assert '<html lang="es">' in other_device.get(reverse("intake:my_requests")).content.decode()


def test_signing_up_on_a_spanish_page_makes_a_spanish_account_and_e_mail(client):
    switch(client, "es")

    client.post(
        reverse("accounts:sign_up"),
        {
            "full_name": "Lucía Gómez",
            "email": "lucia@example.org",
            "password": "un-largo-secreto-2026",
        },
    )

    message = Message.objects.get(to="lucia@example.org")
    assert message.language == "es"
    assert message.template == "verify_email"


@pytest.mark.parametrize("persona", ["coordinator", "assigned_reviewer"])
def test_staff_pages_stay_english_whatever_the_switch_or_browser_says(
    client, persona, request, family_request
):
    user = request.getfixturevalue(persona)
    sign_in(client, user)
    switch(client, "es")
    url = (
        reverse("admin:index")
        if persona == "coordinator"
        else reverse("reviews:case", args=[family_request.reference])
    )

    page = client.get(url, HTTP_ACCEPT_LANGUAGE="es").content.decode()

    assert '<html lang="en"' in page or 'lang="en-us"' in page or 'lang="en"' in page
    assert "Cerrar sesión" not in page


def test_the_admin_sign_in_page_is_english_for_a_spanish_browser(client):
    page = client.get(reverse("admin:login"), HTTP_ACCEPT_LANGUAGE="es").content.decode()

    assert "Contraseña" not in page


def test_a_language_chosen_before_signing_in_is_kept_on_the_account(client, family):
    switch(client, "es")

    client.post(reverse("accounts:login"), {"username": family.email, "password": PASSWORD})

    family.refresh_from_db()
    assert family.language == "es"
    assert '<html lang="es">' in client.get(reverse("intake:my_requests")).content.decode()


def test_signing_in_without_choosing_keeps_the_account_s_language(client, family):
    family.language = "es"
    family.save(update_fields=["language"])

    client.post(reverse("accounts:login"), {"username": family.email, "password": PASSWORD})

    family.refresh_from_db()
    assert family.language == "es"
