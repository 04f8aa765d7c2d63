import pytest
from django.urls import reverse

from notifications.models import Message
from tests.factories import PASSWORD
from tests.helpers import link_in

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new harbour 77"


def set_new_password(client, path):
    page = client.get(path, follow=True)  # Django swaps the token for a session marker
    return client.post(
        page.redirect_chain[-1][0] if page.redirect_chain else path,
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )


def test_a_parent_resets_a_forgotten_password_through_the_e_mailed_link(client, family):
    response = client.post(reverse("accounts:password_reset"), {"email": "Parent@Example.org"})

    assert response["Location"] == reverse("accounts:password_reset_done")
    message = Message.objects.get()
    assert (message.to, message.template) == (family.email, "password_reset")
    done = set_new_password(client, link_in(message))
    assert done["Location"] == reverse("accounts:password_reset_complete")
    family.refresh_from_db()
    assert family.check_password(NEW_PASSWORD)
    assert not family.check_password(PASSWORD)


def test_an_unknown_address_gets_the_same_page_and_no_message(client, family):
    response = client.post(reverse("accounts:password_reset"), {"email": "stranger@example.org"})

    assert response["Location"] == reverse("accounts:password_reset_done")
    assert not Message.objects.exists()


def test_a_reset_link_works_only_once(client, family):
    client.post(reverse("accounts:password_reset"), {"email": family.email})
    path = link_in(Message.objects.get())
    set_new_password(client, path)

    response = client.get(path, follow=True)

    assert "This link does not work any more" in response.content.decode()


def test_the_link_is_built_on_the_configured_site_address_not_the_request_host(
    client, family, settings
):
    settings.ALLOWED_HOSTS = ["testserver", "evil.example"]

    client.post(
        reverse("accounts:password_reset"), {"email": family.email}, HTTP_HOST="evil.example"
    )

    body = Message.objects.get().body
    assert "http://testserver/accounts/password-reset/" in body
    assert "evil.example" not in body
