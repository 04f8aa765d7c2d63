"""The phone-first path, end to end through the pages: a coordinator starts a request for a
family on the phone, takes the fee, invites them; the family opens the link, finds what the
coordinator entered, completes it, signs and sends; the coordinator confirms receipt."""

import pytest
from django.urls import reverse

from accounts.models import User
from billing.models import Payment
from intake.lifecycle import Status
from intake.models import ConsentSignature, Invitation, RequestEvent, ReviewRequest
from notifications.models import Message
from records.models import AccessLog
from tests import samples
from tests.conftest import sign_in
from tests.helpers import link_in

pytestmark = pytest.mark.django_db

FAMILY_EMAIL = "avery.parent@example.org"
ON_THE_PHONE = {
    "state": "GA",
    "zip_code": "31401",
    "patient_age": "12",
    "hospitalized": "no",
    "legal_name": "Avery Jordan Parker",
    "email": FAMILY_EMAIL,
    "phone": "(912) 555-0143",
    "relationship": "mother",
    "first_name": "Mia",
    "last_name": "Parker",
    "date_of_birth": "2014-05-30",
    "prior_diagnosis": "Adolescent idiopathic scoliosis",
    "current_treatment": "Night brace",
    "questions": "Does she need surgery?",
}


def start(client, service, **changes):
    return client.post(
        reverse("admin:intake_reviewrequest_start"),
        {**ON_THE_PHONE, "service": service.pk, **changes},
    )


def started(service, client, coordinator) -> ReviewRequest:
    sign_in(client, coordinator)
    response = start(client, service)
    assert response.status_code == 302, response.content.decode()[:3000]
    return ReviewRequest.objects.get()


def invite_family(client, request) -> str:
    response = client.post(
        reverse("admin:intake_reviewrequest_invite", args=[request.pk, "family"]),
        {"email": FAMILY_EMAIL},
    )
    assert response.status_code == 302
    message = Message.objects.filter(template="invitation_family").latest("pk")
    return link_in(message, "/invitations/")


def test_a_coordinator_starts_a_request_on_the_phone_with_the_eligibility_check_recorded(
    client, coordinator, published_service
):
    request = started(published_service, client, coordinator)

    assert request.status == Status.DRAFT
    assert request.family is None
    assert request.created_by == coordinator
    assert request.eligibility["eligible"] is True
    assert request.eligibility["checked_by"] == "coordinator"
    assert request.guardian.legal_name == "Avery Jordan Parker"
    assert request.guardian.has_legal_authority is False  # the guardian states it themselves
    assert request.child.prior_diagnosis == "Adolescent idiopathic scoliosis"
    page = client.get(reverse("admin:intake_reviewrequest_change", args=[request.pk]))
    assert "on behalf of" in page.content.decode()
    assert coordinator.full_name in page.content.decode()


def test_an_ineligible_family_is_refused_with_the_public_pages_reasons_and_nothing_is_kept(
    client, coordinator, published_service
):
    sign_in(client, coordinator)

    response = start(client, published_service, zip_code="30301")

    assert response.status_code == 400
    assert "not offered in your area" in response.content.decode()
    assert 'value="Avery Jordan Parker"' in response.content.decode()  # what was typed stays
    assert not ReviewRequest.objects.exists()


def test_the_whole_phone_led_path(client, coordinator, published_service):
    request = started(published_service, client, coordinator)

    # The fee is taken by phone before the family has done anything: the draft stays a draft.
    response = client.post(
        reverse("admin:billing_payment_add"),
        {"request": request.pk, "amount": "500.00", "reference": "4242", "note": ""},
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == Status.DRAFT
    assert request.fee_cents == 50000

    link = invite_family(client, request)
    invitation = Invitation.objects.get(kind="family")
    assert invitation.email == FAMILY_EMAIL
    body = Message.objects.get(template="invitation_family").body
    assert "Mia" not in body  # nothing about the child
    assert "scoliosis" not in body

    # The family opens the link (not signed in), creates the account for the invited address.
    client.logout()
    page = client.get(link)
    assert page.status_code == 200
    assert "Create account and continue" in page.content.decode()
    invitation.refresh_from_db()
    assert invitation.opened_at is not None
    account = {"full_name": "Avery Parker", "password": "a long family passphrase 42"}
    # Only someone who knows the child's date of birth gets in (a mistyped address reaches
    # a stranger, who does not).
    wrong = client.post(link, {**account, "child_date_of_birth": "2014-06-30"})
    assert wrong.status_code == 400
    assert "not the date of birth your coordinator noted" in wrong.content.decode()
    assert 'value="Avery Parker"' in wrong.content.decode()
    assert not User.objects.filter(email=FAMILY_EMAIL).exists()
    response = client.post(link, {**account, "child_date_of_birth": "2014-05-30"})
    assert response.status_code == 302
    assert response.url == reverse("intake:wizard_guardian", args=[request.reference])
    request.refresh_from_db()
    family = request.family
    assert family.email == FAMILY_EMAIL
    assert family.email_verified_at is not None

    # What the coordinator entered is there; the guardian completes and signs.
    page = client.get(response.url).content.decode()
    assert 'value="Avery Jordan Parker"' in page
    guardian = {
        "legal_name": "Avery Jordan Parker",
        "relationship": "mother",
        "has_legal_authority": "on",
        "phone": "(912) 555-0143",
        "email": FAMILY_EMAIL,
        "address_line1": "12 Oak St",
        "city": "Savannah",
        "state": "GA",
        "zip_code": "31401",
    }
    assert client.post(response.url, guardian).status_code == 302
    child = reverse("intake:wizard_child", args=[request.reference])
    assert "Does she need surgery?" in client.get(child).content.decode()
    assert (
        client.post(
            child,
            {
                "first_name": "Mia",
                "last_name": "Parker",
                "date_of_birth": "2014-05-30",
                "sex": "female",
                "prior_diagnosis": "Adolescent idiopathic scoliosis",
                "questions": "Does she need surgery?",
            },
        ).status_code
        == 302
    )
    client.post(
        reverse("intake:wizard_questionnaire", args=[request.reference]), {"back_pain": "no"}
    )
    client.post(
        reverse("intake:wizard_consent", args=[request.reference]),
        {"typed_name": "avery jordan parker", "agree": "on"},
    )
    assert ConsentSignature.objects.get().signed_by == family
    client.post(
        reverse("records:wizard_referral", args=[request.reference]),
        {"name": "Dr. Ortiz", "practice": "Savannah Pediatrics", "phone": "(912) 555-0100"},
    )
    for kind in ("referral", "record", "imaging"):
        content, name = (
            (samples.dicom(), "ct.dcm") if kind == "imaging" else (samples.pdf(), "a.pdf")
        )
        client.post(
            reverse("records:upload", args=[request.reference]),
            {"kind": kind, "file": samples.upload(content, name)},
        )
    response = client.post(reverse("intake:wizard_review", args=[request.reference]))
    assert response.status_code == 302, response.content.decode()[:2000]

    # Paid in advance: sending it starts the review clock at once.
    request.refresh_from_db()
    assert request.status == Status.SUBMITTED
    assert request.submitted_at is not None
    assert Payment.objects.filter(request=request).count() == 1

    # The coordinator confirms receipt; the family is told.
    sign_in(client, coordinator)
    client.post(
        reverse("admin:intake_reviewrequest_changelist"),
        {"action": "start_review", "_selected_action": [request.pk]},
    )
    request.refresh_from_db()
    assert request.status == Status.IN_REVIEW

    lines = [
        event.family_text
        for event in RequestEvent.objects.filter(request=request).order_by("created_at", "pk")
    ]
    assert lines[0] == "Your coordinator started this request with you on the phone."
    assert any("paid by phone" in line for line in lines)
    assert "Your coordinator e-mailed you an invitation to finish this request." in lines
    assert "You accepted the invitation and joined this request." in lines
    assert AccessLog.objects.filter(request=request, action="upload", user=family).count() == 3


def test_the_coordinator_can_never_sign_the_consent(coordinator, published_service, client):
    from django.core.exceptions import ValidationError

    from intake.services import consent_sign

    request = started(published_service, client, coordinator)

    with pytest.raises(ValidationError, match="Only the child's parent or guardian"):
        consent_sign(
            review_request=request,
            typed_name="Avery Jordan Parker",
            actor=coordinator,
            ip_address="",
            user_agent="",
        )
    assert not ConsentSignature.objects.exists()
