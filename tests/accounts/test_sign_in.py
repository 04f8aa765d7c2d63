from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def sign_in(client, email, password=PASSWORD, address="203.0.113.7"):
    return client.post(
        reverse("accounts:login"), {"username": email, "password": password}, REMOTE_ADDR=address
    )


def test_a_parent_signs_in_with_e_mail_and_password_and_lands_on_their_requests(client, family):
    response = sign_in(client, "  PARENT@example.org ")

    assert response["Location"] == reverse("accounts:home")
    assert client.get(response["Location"])["Location"] == reverse("intake:my_requests")


def test_a_wrong_password_is_explained_and_the_address_is_kept(client, family):
    response = sign_in(client, family.email, "not my password")

    assert response.status_code == 200
    page = response.content.decode()
    assert "do not match an account" in page
    assert f'value="{family.email}"' in page
    assert "_auth_user_id" not in client.session


def test_an_unconfirmed_parent_is_told_to_confirm_and_offered_a_new_link(client):
    UserFactory(email="new.parent@example.org", email_verified_at=None)

    response = sign_in(client, "new.parent@example.org")

    page = response.content.decode()
    assert "Confirm your e-mail address first" in page
    assert reverse("accounts:resend_verification") in page
    assert "_auth_user_id" not in client.session


def test_a_deactivated_account_cannot_sign_in(client, family):
    family.is_active = False
    family.save(update_fields=["is_active"])

    response = sign_in(client, family.email)

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_five_failures_pause_sign_in_for_fifteen_minutes_even_with_the_right_password(
    client, family
):
    for _ in range(5):
        sign_in(client, family.email, "guess")

    locked = sign_in(client, family.email)

    assert locked.status_code == 429
    assert "paused for 15 minutes" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert sign_in(client, family.email)["Location"] == reverse("accounts:home")


def test_the_pause_holds_for_that_account_from_that_address_only(client, family, other_family):
    for _ in range(5):
        sign_in(client, family.email, "guess", address="203.0.113.7")

    assert sign_in(client, family.email, address="198.51.100.20")["Location"] == reverse(
        "accounts:home"
    )
    client.logout()
    assert sign_in(client, other_family.email)["Location"] == reverse("accounts:home")


def test_a_successful_sign_in_forgets_earlier_failures(client, family):
    for _ in range(4):
        sign_in(client, family.email, "guess")
    sign_in(client, family.email)
    client.logout()

    for _ in range(4):
        sign_in(client, family.email, "guess")

    assert sign_in(client, family.email)["Location"] == reverse("accounts:home")


def test_staff_are_asked_for_their_code_after_the_password(client, coordinator):
    response = sign_in(client, coordinator.email)
    followed = client.get(response["Location"])

    assert followed["Location"].startswith(reverse("accounts:otp_verify"))
