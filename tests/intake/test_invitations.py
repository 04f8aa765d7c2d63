"""The invitation link a coordinator or a guardian e-mails: what a tampered, expired, used or
replaced link does, who may use it (only an account with the invited address), and what the
e-mail says. Through the pages, as the invited person meets them."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import dateformat, timezone

from accounts.models import User
from intake.models import Invitation, RequestEvent, SharedAccess
from intake.selectors import phone_led_requests
from tests.conftest import sign_in
from tests.factories import PASSWORD, UserFactory
from tests.intake.invitation_setup import (
    CHILD_BIRTH_DATE,
    CHILD_FIRST_NAME,
    CHILD_LAST_NAME,
    DIAGNOSIS,
    FAMILY_EMAIL,
    GUARDIAN_NAME,
    NEW_PASSWORD,
    last_message,
    phone_request_invited,
    send,
    sign_in_with_password,
    sign_up_through,
    submit,
)

pytestmark = pytest.mark.django_db

DEPARTMENT_PHONE = "404-555-0199"  # tests.factories.DepartmentFactory


def token_of(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[1]


def changed_one_character(token: str) -> str:
    position = len(token) // 3  # inside the invitation's key
    replacement = "0" if token[position] != "0" else "1"
    return token[:position] + replacement + token[position + 1 :]


# --- Links that are not ours ------------------------------------------------------------------


@pytest.mark.parametrize(
    "tamper",
    [changed_one_character, lambda token: token[:-6], lambda token: token.split(":")[0]],
    ids=["one-character-changed", "cut-short", "signature-missing"],
)
def test_a_tampered_invitation_link_does_not_work_and_opens_nothing(
    client, coordinator, published_service, tamper
):
    request, invitation, link = phone_request_invited(coordinator, published_service)

    response = client.get(reverse("intake:invitation", args=[tamper(token_of(link))]))

    assert response.status_code == 404
    assert "This link does not work" in response.content.decode()
    assert request.reference not in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.opened_at is None
    assert client.get(link).status_code == 200  # the genuine link still works


def test_a_guardian_link_on_the_pediatrician_page_and_the_reverse_do_not_work(
    client, coordinator, published_service
):
    request, _, family_link = phone_request_invited(coordinator, published_service)
    sign_up_through(client, family_link)  # others join once the family has
    client.logout()
    guardian, guardian_link = send(request, "guardian", "second.parent@example.org", coordinator)
    pediatrician, pediatrician_link = send(
        request, "pediatrician", "dr.ortiz@example.org", coordinator
    )

    on_upload_page = client.get(
        reverse("records:pediatrician_upload", args=[token_of(guardian_link)])
    )
    on_invitation_page = client.get(
        reverse("intake:invitation", args=[token_of(pediatrician_link)])
    )

    for response in (on_upload_page, on_invitation_page):
        assert response.status_code == 404
        assert "This link does not work" in response.content.decode()
    # The guardian's link cannot upload: nothing was offered to upload to.
    assert "Send the file" not in on_upload_page.content.decode()
    for invitation in (guardian, pediatrician):
        invitation.refresh_from_db()
        assert invitation.opened_at is None
    # Each works on its own page.
    assert client.get(guardian_link).status_code == 200
    assert client.get(pediatrician_link).status_code == 200


# --- Links that no longer work ----------------------------------------------------------------


def test_an_expired_invitation_says_when_it_expired_and_whom_to_call_and_attaches_nothing(
    client, coordinator, published_service
):
    request, invitation, link = phone_request_invited(coordinator, published_service)
    expired_on = dateformat.format(timezone.localtime(invitation.expires_at), "F j, Y")

    with time_machine.travel(invitation.expires_at + timedelta(minutes=1)):
        page = client.get(link)
        sign_up = client.post(link, {"full_name": "Avery Parker", "password": NEW_PASSWORD})

    assert page.status_code == 410
    text = page.content.decode()
    assert "This link no longer works" in text
    assert f"This link expired on {expired_on}." in text
    assert DEPARTMENT_PHONE in text
    assert sign_up.status_code == 410
    assert not User.objects.filter(email=FAMILY_EMAIL).exists()
    request.refresh_from_db()
    assert request.family is None
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_an_expired_invitation_cannot_be_accepted_by_the_invited_account_either(
    client, coordinator, published_service
):
    request, invitation, link = phone_request_invited(coordinator, published_service)
    invited = UserFactory(email=FAMILY_EMAIL, full_name="Avery Parker")
    sign_in(client, invited)

    with time_machine.travel(invitation.expires_at + timedelta(seconds=1)):
        response = client.post(link)

    assert response.status_code == 410
    assert "expired on" in response.content.decode()
    request.refresh_from_db()
    assert request.family is None


def test_a_used_invitation_is_refused_signed_out_and_takes_the_account_that_used_it_home(
    client, coordinator, published_service
):
    request, invitation, link = phone_request_invited(coordinator, published_service)
    accepted = sign_up_through(client, link)
    assert accepted.status_code == 302
    family = User.objects.get(email=FAMILY_EMAIL)

    client.logout()
    again = client.get(link)
    sign_in(client, family)
    home = client.get(link)

    assert again.status_code == 410
    assert "This invitation has already been used" in again.content.decode()
    assert DEPARTMENT_PHONE in again.content.decode()
    assert home.status_code == 302
    assert home.url == reverse("intake:request_detail", args=[request.reference])
    assert client.get(home.url).status_code == 200
    invitation.refresh_from_db()
    assert invitation.accepted_by == family
    assert RequestEvent.objects.filter(request=request, kind="access").count() == 1


def test_a_used_invitation_opened_by_someone_else_signed_in_is_refused(
    client, coordinator, published_service, other_family
):
    request, _, link = phone_request_invited(coordinator, published_service)
    sign_up_through(client, link)
    sign_in(client, other_family)

    response = client.get(link)

    assert response.status_code == 410
    assert "already been used" in response.content.decode()
    assert client.get(reverse("intake:request_detail", args=[request.reference])).status_code == 404


def test_a_newer_invitation_replaces_the_older_one(client, coordinator, published_service):
    request, first, old_link = phone_request_invited(coordinator, published_service)
    second, new_link = send(request, "family", FAMILY_EMAIL, coordinator)

    old = client.get(old_link)

    assert old_link != new_link
    assert old.status_code == 410
    assert "This link was withdrawn, or replaced by a newer one." in old.content.decode()
    assert DEPARTMENT_PHONE in old.content.decode()
    first.refresh_from_db()
    assert first.revoked_by == coordinator
    # Signing up through the old link creates nothing.
    refused = client.post(old_link, {"full_name": "Avery Parker", "password": NEW_PASSWORD})
    assert refused.status_code == 410
    assert not User.objects.filter(email=FAMILY_EMAIL).exists()
    # The newer link works.
    accepted = sign_up_through(client, new_link)
    assert accepted.url == reverse("intake:wizard_guardian", args=[request.reference])
    second.refresh_from_db()
    assert second.accepted_at is not None


# --- Opened in the wrong account --------------------------------------------------------------


@pytest.mark.parametrize("persona", ["other_family", "coordinator"])
def test_an_invitation_opened_in_another_account_attaches_nothing_until_the_right_one_is_used(
    client, coordinator, published_service, persona, request
):
    review_request, invitation, link = phone_request_invited(coordinator, published_service)
    someone = request.getfixturevalue(persona)
    sign_in(client, someone)

    page = client.get(link)
    accept = client.post(link)

    for response in (page, accept):
        assert response.status_code == 403
        text = response.content.decode()
        assert "This invitation is for another e-mail address" in text
        assert "a•••@example.org" in text
        assert "Nothing has been added to your account." in text
        assert FAMILY_EMAIL not in text  # the address is masked
    review_request.refresh_from_db()
    assert review_request.family is None
    assert not SharedAccess.objects.exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None
    assert not RequestEvent.objects.filter(request=review_request, kind="access").exists()

    # Signed out, the right person creates the account for the invited address: it works.
    client.post(reverse("accounts:logout"))
    response = sign_up_through(client, link)
    assert response.status_code == 302
    assert response.url == reverse("intake:wizard_guardian", args=[review_request.reference])
    review_request.refresh_from_db()
    assert review_request.family.email == FAMILY_EMAIL
    assert review_request.family != someone


def test_a_second_guardian_invitation_opened_by_the_primary_guardian_adds_no_access(
    client, family, family_draft
):
    sign_in(client, family)
    _, link = send(family_draft, "guardian", "second.parent@example.org", family)

    response = client.post(
        link,
        {"legal_name": "Jordan Rivera", "relationship": "father", "has_legal_authority": "on"},
    )

    assert response.status_code == 403
    assert "This invitation is for another e-mail address" in response.content.decode()
    assert not SharedAccess.objects.exists()


# --- An account that already exists -----------------------------------------------------------


def test_an_existing_account_is_asked_to_sign_in_then_accepts_and_lands_in_the_wizard(
    client, coordinator, published_service
):
    review_request, invitation, link = phone_request_invited(coordinator, published_service)
    existing = UserFactory(email=FAMILY_EMAIL, full_name="Avery Parker")

    page = client.get(link)

    assert page.status_code == 200
    text = page.content.decode()
    assert "Sign in to continue" in text
    assert "a•••@example.org" in text
    assert "Create account and continue" not in text
    assert User.objects.filter(email=FAMILY_EMAIL).count() == 1

    signed_in = sign_in_with_password(client, FAMILY_EMAIL, PASSWORD, link)
    assert signed_in.status_code == 302
    assert signed_in.url == link
    form = client.get(link)
    assert "Continue to my request" in form.content.decode()
    assert "date of birth" in form.content.decode()
    accepted = submit(client, link, {"child_date_of_birth": CHILD_BIRTH_DATE})
    assert accepted.status_code == 302
    assert accepted.url == reverse("intake:wizard_guardian", args=[review_request.reference])
    wizard = client.get(accepted.url).content.decode()
    assert f'value="{GUARDIAN_NAME}"' in wizard  # what the coordinator typed is there
    review_request.refresh_from_db()
    assert review_request.family == existing
    invitation.refresh_from_db()
    assert invitation.accepted_by == existing


def test_opening_an_invitation_does_not_confirm_an_unconfirmed_account(
    client, coordinator, published_service
):
    """Opening a link is a GET (mail scanners open them too): the address is confirmed only
    by the confirmation link, and signing in says so."""
    _, _, link = phone_request_invited(coordinator, published_service)
    existing = UserFactory(email=FAMILY_EMAIL, email_verified_at=None)

    client.get(link)
    signing_in = sign_in_with_password(client, FAMILY_EMAIL, PASSWORD, link)

    existing.refresh_from_db()
    assert existing.email_verified_at is None
    assert "Confirm your e-mail address first" in signing_in.content.decode()


def test_a_wrong_date_of_birth_opens_nothing_and_five_withdraw_the_link(
    client, coordinator, published_service
):
    """A mistyped address on the phone sends the link to a stranger, who does not know the
    child's date of birth: nothing is created, and guessing ends with the link withdrawn."""
    review_request, invitation, link = phone_request_invited(coordinator, published_service)
    typed = {"full_name": "Someone Else", "password": NEW_PASSWORD}

    for day in range(1, 5):
        wrong = client.post(link, {**typed, "child_date_of_birth": f"2013-01-0{day}"})
        assert wrong.status_code == 400
        assert "not the date of birth your coordinator noted" in wrong.content.decode()
    last = client.post(link, {**typed, "child_date_of_birth": "2013-01-09"})

    assert last.status_code == 410
    assert "withdrawn after several wrong dates of birth" in last.content.decode()
    assert not User.objects.filter(email=FAMILY_EMAIL).exists()
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    review_request.refresh_from_db()
    assert review_request.family is None
    right = client.post(link, {**typed, "child_date_of_birth": CHILD_BIRTH_DATE})
    assert right.status_code == 410  # too late: the coordinator sends a new one


def test_sign_up_errors_keep_what_was_typed_and_create_nothing(
    client, coordinator, published_service
):
    review_request, invitation, link = phone_request_invited(coordinator, published_service)

    response = client.post(
        link,
        {
            "full_name": "Avery Q. Parker",
            "password": "12345",
            "child_date_of_birth": CHILD_BIRTH_DATE,
        },
    )

    assert response.status_code == 400
    text = response.content.decode()
    assert "This password is too short" in text
    assert 'value="Avery Q. Parker"' in text
    assert 'value="12345"' not in text  # a password is never sent back
    assert not User.objects.filter(email=FAMILY_EMAIL).exists()
    review_request.refresh_from_db()
    assert review_request.family is None
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_the_sign_up_page_shows_nothing_of_the_request_but_its_reference(
    client, coordinator, published_service
):
    """Whoever opens it may have got the e-mail through a mistyped address."""
    review_request, _, link = phone_request_invited(coordinator, published_service)

    page = client.get(link).content.decode()

    assert review_request.reference in page
    assert "a•••@example.org" in page
    for private in (GUARDIAN_NAME, CHILD_FIRST_NAME, DIAGNOSIS, published_service.name):
        assert private not in page


# --- The e-mail, and the funnel's "opened" ------------------------------------------------------


def test_the_invitation_email_carries_no_child_data_and_its_link_works(
    client, coordinator, published_service
):
    review_request, _, link = phone_request_invited(coordinator, published_service)

    message = last_message("family")

    assert message.to == FAMILY_EMAIL
    for private in (CHILD_FIRST_NAME, CHILD_LAST_NAME, DIAGNOSIS, "Night brace", "surgery"):
        assert private not in message.body
        assert private not in message.subject
    assert review_request.reference in message.body
    assert DEPARTMENT_PHONE in message.body
    page = client.get(link)
    assert page.status_code == 200
    assert review_request.reference in page.content.decode()
    assert CHILD_FIRST_NAME not in page.content.decode()  # not before signing in either


def test_opened_at_is_recorded_on_the_first_opening_only(client, coordinator, published_service):
    _, invitation, link = phone_request_invited(coordinator, published_service)
    first = timezone.now() + timedelta(hours=2)

    with time_machine.travel(first, tick=False):
        client.get(link)
    with time_machine.travel(first + timedelta(days=1), tick=False):
        client.get(link)
        client.post(link, {"full_name": "Avery Parker", "password": "short"})

    invitation.refresh_from_db()
    assert invitation.opened_at == first
    line = phone_led_requests(now=timezone.now())[0]
    assert line.stage_label == "Invitation opened, not accepted"


def test_a_revoked_invitation_is_not_opened_by_visiting_it(client, coordinator, published_service):
    _, invitation, link = phone_request_invited(coordinator, published_service)
    from intake.services import invitation_revoke

    invitation_revoke(invitation=invitation, actor=coordinator)

    response = client.get(link)

    assert response.status_code == 410
    invitation.refresh_from_db()
    assert invitation.opened_at is None
    assert invitation.state_at(timezone.now()) == "revoked"
    assert Invitation.objects.filter(kind="family").count() == 1


@pytest.mark.django_db
def test_an_error_report_shows_nothing_posted_to_an_invitation_page(client):
    from django.views.debug import SafeExceptionReporterFilter

    posted = {
        "full_name": "Avery Parker",
        "password": NEW_PASSWORD,
        "child_first_name": CHILD_FIRST_NAME,
        "child_date_of_birth": "2015-04-02",
    }
    response = client.post(reverse("intake:invitation", args=["not-a-token"]), posted)

    reporter = SafeExceptionReporterFilter()
    shown = reporter.get_post_parameters(response.wsgi_request)
    assert response.status_code == 404
    assert {name: shown[name] for name in posted} == dict.fromkeys(
        posted, reporter.cleansed_substitute
    )
