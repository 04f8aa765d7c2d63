import pytest
from django.urls import reverse

from accounts.models import Role, User
from notifications.models import Message
from tests.helpers import link_in

pytestmark = pytest.mark.django_db

FORM = {
    "full_name": "Jordan Rivera",
    "email": " Jordan.Rivera@Example.org ",
    "password": "a quiet harbour 42",
}


def test_signing_up_makes_an_unconfirmed_family_account_and_sends_a_link(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as enqueued:
        response = client.post(reverse("accounts:sign_up"), FORM)

    assert response["Location"] == reverse("accounts:check_email")
    user = User.objects.get()
    assert user.email == "jordan.rivera@example.org"
    assert user.role == Role.FAMILY
    assert list(user.groups.values_list("name", flat=True)) == ["Family"]
    assert user.email_verified_at is None
    message = Message.objects.get()
    assert (message.to, message.template) == ("jordan.rivera@example.org", "verify_email")
    assert "Jordan" not in message.body
    assert len(enqueued) == 1


def test_the_link_confirms_the_address_and_the_parent_can_then_sign_in(client):
    client.post(reverse("accounts:sign_up"), FORM)

    response = client.get(link_in(Message.objects.get()), follow=True)

    assert "your e-mail address is confirmed" in response.content.decode()
    assert User.objects.get().email_verified_at is not None
    signed_in = client.post(
        reverse("accounts:login"), {"username": FORM["email"], "password": FORM["password"]}
    )
    assert signed_in["Location"] == reverse("accounts:home")


def test_an_address_that_has_an_account_gets_a_note_not_a_second_account(client, family):
    old_password = family.password

    response = client.post(reverse("accounts:sign_up"), {**FORM, "email": "PARENT@example.org"})

    assert response["Location"] == reverse("accounts:check_email")
    assert User.objects.count() == 1
    family.refresh_from_db()
    assert family.password == old_password
    message = Message.objects.get()
    assert (message.to, message.template) == ("parent@example.org", "account_exists")


@pytest.mark.parametrize(
    ("changes", "field", "error"),
    [
        ({"full_name": ""}, "full_name", "This field is required."),
        ({"email": "jordan@"}, "email", "Enter a valid email address."),
        ({"password": "short"}, "password", "This password is too short."),
        ({"password": "password123"}, "password", "This password is too common."),
        ({"password": "jordanrivera"}, "password", "too similar"),
    ],
)
def test_bad_input_is_explained_keeps_what_was_typed_and_creates_nothing(
    client, changes, field, error
):
    response = client.post(reverse("accounts:sign_up"), {**FORM, **changes})

    assert response.status_code == 200
    assert error in " ".join(response.context["form"].errors[field])
    page = response.content.decode()
    for kept in ("full_name", "email"):
        if kept not in changes:
            assert f'value="{FORM[kept]}"' in page  # exactly as typed
    assert FORM["password"] not in page
    assert not User.objects.exists()
    assert not Message.objects.exists()


def test_a_signed_in_parent_is_not_shown_the_sign_up_page(client, family):
    client.force_login(family)

    assert client.get(reverse("accounts:sign_up"))["Location"] == reverse("accounts:home")
