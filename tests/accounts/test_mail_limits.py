import pytest
from django.urls import reverse

from notifications.models import Message
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("view", "data"),
    [
        ("accounts:password_reset", {"email": "parent@example.org"}),
        (
            "accounts:sign_up",
            {
                "email": "parent@example.org",
                "full_name": "Someone",
                "password": "a quiet harbour 42",
            },
        ),
    ],
)
def test_an_address_gets_at_most_five_account_e_mails_an_hour(client, family, view, data):
    for _ in range(8):
        response = client.post(reverse(view), data)

    assert response.status_code == 302  # the page looks the same
    assert Message.objects.filter(to="parent@example.org").count() == 5


def test_new_confirmation_links_are_limited_too(client):
    UserFactory(email="new.parent@example.org", email_verified_at=None)

    for _ in range(8):
        client.post(reverse("accounts:resend_verification"), {"email": "new.parent@example.org"})

    assert Message.objects.count() == 5


def test_the_allowance_is_per_address(client, family, other_family):
    for _ in range(6):
        client.post(reverse("accounts:password_reset"), {"email": family.email})

    client.post(reverse("accounts:password_reset"), {"email": other_family.email})

    assert Message.objects.filter(to=other_family.email).count() == 1
