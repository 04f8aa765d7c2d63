from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.services import email_verification_send
from accounts.tokens import email_verification_token
from notifications.models import Message
from tests.factories import UserFactory
from tests.helpers import link_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def unconfirmed():
    return UserFactory(email="new.parent@example.org", email_verified_at=None)


def test_a_link_used_twice_says_the_address_was_already_confirmed(client, unconfirmed):
    url = reverse("accounts:verify_email", args=[email_verification_token(unconfirmed)])
    client.get(url)

    response = client.get(url, follow=True)

    assert "already confirmed" in response.content.decode()


def test_a_link_older_than_three_days_has_expired_and_offers_a_new_one(client, unconfirmed):
    url = reverse("accounts:verify_email", args=[email_verification_token(unconfirmed)])

    with time_machine.travel(timezone.now() + timedelta(days=3, minutes=1)):
        response = client.get(url)

    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
    assert reverse("accounts:resend_verification") in response.content.decode()
    unconfirmed.refresh_from_db()
    assert unconfirmed.email_verified_at is None


@pytest.mark.parametrize("token", ["nonsense", "WzEsImFiYyJd:1tXyz:forged"])
def test_a_forged_or_damaged_link_confirms_nothing(client, unconfirmed, token):
    response = client.get(reverse("accounts:verify_email", args=[token]))

    assert response.status_code == 404
    assert "This link does not work" in response.content.decode()
    unconfirmed.refresh_from_db()
    assert unconfirmed.email_verified_at is None


def test_a_link_for_an_address_that_has_since_changed_does_not_work(client, unconfirmed):
    token = email_verification_token(unconfirmed)
    unconfirmed.email = "changed@example.org"
    unconfirmed.save(update_fields=["email"])

    response = client.get(reverse("accounts:verify_email", args=[token]))

    assert response.status_code == 404


def test_the_link_carries_no_e_mail_address(unconfirmed):
    email_verification_send(user=unconfirmed)

    path = link_in(Message.objects.get())

    assert "new.parent" not in path
    assert "example.org" not in path


def test_a_new_link_is_sent_only_to_an_unconfirmed_account_and_the_page_is_the_same(
    client, unconfirmed, family
):
    pages = [
        client.post(reverse("accounts:resend_verification"), {"email": email})
        for email in ("NEW.PARENT@example.org", family.email, "nobody@example.org")
    ]

    assert {page["Location"] for page in pages} == {reverse("accounts:check_email")}
    assert list(Message.objects.values_list("to", flat=True)) == ["new.parent@example.org"]
