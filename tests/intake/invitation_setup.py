"""Requests a coordinator started on the phone, and the links e-mailed for them, for the tests
of invitations, shared cases, the pediatrician's upload link and the reminder sweep."""

import re
from datetime import date

from django.urls import reverse

from intake import services
from intake.eligibility import EligibilityAnswers
from intake.models import Invitation, ReviewRequest
from notifications.models import Message
from tests.helpers import link_in

FAMILY_EMAIL = "avery.parent@example.org"
GUARDIAN_NAME = "Avery Jordan Parker"
CHILD_FIRST_NAME = "Mirabel"
CHILD_LAST_NAME = "Quistgaard"
DIAGNOSIS = "Adolescent idiopathic scoliosis"
NEW_PASSWORD = "a long family passphrase 42"
CHILD_BIRTH_DATE = "2014-05-30"  # what the family gives to open its invitation
KNOWN = {"child_date_of_birth": date.fromisoformat(CHILD_BIRTH_DATE)}  # as the service takes it
TEMPLATES = {
    Invitation.Kind.FAMILY: "invitation_family",
    Invitation.Kind.GUARDIAN: "invitation_guardian",
    Invitation.Kind.PEDIATRICIAN: "invitation_pediatrician",
}
PAGES = {
    Invitation.Kind.FAMILY: "/invitations/",
    Invitation.Kind.GUARDIAN: "/invitations/",
    Invitation.Kind.PEDIATRICIAN: "/referrals/",
}


def phone_request(coordinator, service, *, email: str = FAMILY_EMAIL) -> ReviewRequest:
    """A draft a coordinator started for a family on the phone (nobody invited yet)."""
    return services.review_request_start_for_family(
        service=service,
        eligibility=EligibilityAnswers(
            state="GA", zip_code="31401", patient_age=12, hospitalized=False
        ),
        guardian={
            "legal_name": GUARDIAN_NAME,
            "email": email,
            "phone": "+19125550143",
            "relationship": "mother",
        },
        child={
            "first_name": CHILD_FIRST_NAME,
            "last_name": CHILD_LAST_NAME,
            "date_of_birth": date.fromisoformat(CHILD_BIRTH_DATE),
            "prior_diagnosis": DIAGNOSIS,
            "current_treatment": "Night brace",
            "questions": "Does she need surgery?",
        },
        actor=coordinator,
    )


def last_message(kind: str) -> Message:
    return Message.objects.filter(template=TEMPLATES[kind]).latest("pk")


def send(review_request, kind: str, email: str, actor) -> tuple[Invitation, str]:
    """E-mail a link through the service; returns the invitation and the link's path as the
    e-mail gives it."""
    invitation = services.invitation_send(
        review_request=review_request, kind=kind, email=email, actor=actor
    )
    return invitation, link_in(last_message(kind), PAGES[kind])


def phone_request_invited(coordinator, service, *, email: str = FAMILY_EMAIL):
    """A phone-led draft and the family's invitation: (request, invitation, link path)."""
    request = phone_request(coordinator, service, email=email)
    invitation, link = send(request, Invitation.Kind.FAMILY, email, coordinator)
    return request, invitation, link


def sign_up_through(client, link: str, *, full_name: str = "Avery Parker"):
    """Open the link signed out and create the account for the invited address (giving the
    child's date of birth, which a family invitation asks for)."""
    client.logout()
    page = client.get(link)
    assert page.status_code == 200
    return client.post(
        link,
        {"full_name": full_name, "password": NEW_PASSWORD, "child_date_of_birth": CHILD_BIRTH_DATE},
    )


def sign_in_with_password(client, email: str, password: str, next_path: str):
    """Sign in through the sign-in page, as a person does, with ``next``."""
    return client.post(
        f"{reverse('accounts:login')}?next={next_path}",
        {"username": email, "password": password, "next": next_path},
    )


def submit(client, path: str, data: dict | None = None):
    """Post the form on ``path`` as a browser does: with the page's CSRF token (a form with
    no fields of its own, such as "Continue to my request", sends only that)."""
    page = client.get(path).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token, page[:2000]
    return client.post(path, {"csrfmiddlewaretoken": token.group(1), **(data or {})})
