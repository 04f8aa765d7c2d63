"""The referring pediatrician's upload link: sent from the referral step or the admin, it
uploads files to one request without an account, shows only what was sent through it and
nothing else of the case, marks and logs every file, and stops working when withdrawn,
expired or once the review has started."""

from datetime import timedelta

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import escape

from intake import services as intake_services
from intake.lifecycle import Status
from intake.models import Invitation
from intake.services import child_save, invitation_revoke, review_request_transition
from notifications.models import Message
from records import services as records_services
from records.filetypes import Rejected
from records.models import AccessLog, Document
from tests import samples
from tests.conftest import sign_in
from tests.factories import review_request as request_at
from tests.helpers import link_in

pytestmark = pytest.mark.django_db

DOCTOR = "dr.ortiz@example.org"
CHILD = {
    "first_name": "Mirabel",
    "last_name": "Quistgaard",
    "prior_diagnosis": "Congenital kyphoscoliosis",
    "questions": "Is surgery needed?",
}
FAMILY_FILE = "family-private-notes.pdf"
DEPARTMENT_PHONE = "404-555-0199"
# How a file's line marks what the pediatrician sent (after its kind, e.g. "Medical records ·
# sent by the pediatrician").
FROM_PEDIATRICIAN = "· sent by the pediatrician"


def stored_files() -> list[str]:
    try:
        return default_storage.listdir("documents")[1]
    except FileNotFoundError:
        return []


def pediatrician_link() -> str:
    message = Message.objects.filter(template="invitation_pediatrician").latest("pk")
    return link_in(message, "/referrals/")


def family_upload(client, review_request, content, name, kind="record"):
    return client.post(
        reverse("records:upload", args=[review_request.reference]),
        {"kind": kind, "file": samples.upload(content, name)},
        HTTP_ACCEPT="application/json",
    )


def send_through(doctor, link, content, name, kind="referral", **extra):
    return doctor.post(link, {"kind": kind, "file": samples.upload(content, name)}, **extra)


def invite_from_referral_step(client, review_request, email=DOCTOR, **typed):
    """The step's "E-mail the pediatrician an upload link", with what was typed in the step."""
    referral = reverse("records:wizard_referral", args=[review_request.reference])
    return client.post(referral, {**typed, "pediatrician-email": email, "go": "invite"})


@pytest.fixture
def case(client, family, family_draft):
    """The family's draft (child's details and one file of their own) with a pediatrician
    link sent from the referral step; ``client`` is the family's browser."""
    child_save(review_request=family_draft, fields=CHILD)
    sign_in(client, family)
    assert family_upload(client, family_draft, samples.pdf(), FAMILY_FILE).status_code == 201
    response = invite_from_referral_step(client, family_draft)
    assert response.status_code == 302
    return family_draft, pediatrician_link()


def test_the_referral_step_offers_the_link_and_sends_it(client, family, family_draft):
    sign_in(client, family)
    referral = reverse("records:wizard_referral", args=[family_draft.reference])

    page = client.get(referral).content.decode()
    response = invite_from_referral_step(client, family_draft)

    assert "E-mail the pediatrician an upload link" in page
    assert response.status_code == 302
    assert response.url == referral  # back where the family was
    after = client.get(referral).content.decode()
    assert f"The link was e-mailed to {DOCTOR}." in after
    invitation = Invitation.objects.get()
    assert (invitation.kind, invitation.email, invitation.created_by) == (
        "pediatrician",
        DOCTOR,
        family,
    )
    message = Message.objects.get(template="invitation_pediatrician")
    assert message.to == DOCTOR
    assert family_draft.reference in message.body
    assert "/referrals/" in pediatrician_link()


def test_a_second_guardian_is_not_offered_the_pediatrician_link(family, family_draft):
    from accounts.models import User
    from tests.factories import UserFactory

    invitation = intake_services.invitation_send(
        review_request=family_draft, kind="guardian", email="casey@example.org", actor=family
    )
    second: User = UserFactory(email="casey@example.org")
    intake_services.invitation_accept(
        invitation=invitation,
        user=second,
        details={"legal_name": "Casey Rivera", "relationship": "father"},
    )
    browser = sign_in(Client(), second)

    page = browser.get(reverse("records:wizard_referral", args=[family_draft.reference]))

    assert page.status_code == 200
    assert "E-mail the pediatrician an upload link" not in page.content.decode()


def test_a_coordinator_sends_the_link_from_the_admin_to_the_address_the_family_gave(
    client, family_draft, coordinator
):
    intake_services.referring_pediatrician_save(
        review_request=family_draft, fields={"name": "Dr. Ortiz", "email": DOCTOR}
    )
    sign_in(client, coordinator)
    invite = reverse("admin:intake_reviewrequest_invite", args=[family_draft.pk, "pediatrician"])

    form = client.get(invite).content.decode()
    response = client.post(invite, {"email": DOCTOR})

    assert f'value="{DOCTOR}"' in form
    assert response.status_code == 302
    assert Invitation.objects.get().created_by == coordinator
    assert Client().get(pediatrician_link()).status_code == 200


def test_the_doctor_uploads_without_an_account_and_the_family_sees_it_from_the_pediatrician(
    client, case
):
    review_request, link = case
    doctor = Client()

    page = doctor.get(link)
    response = send_through(doctor, link, samples.pdf(), "referral-letter.pdf", follow=True)

    assert page.status_code == 200
    assert review_request.reference in page.content.decode()
    assert response.status_code == 200
    assert "referral-letter.pdf was sent. Thank you." in response.content.decode()
    document = Document.objects.get(original_name="referral-letter.pdf")
    assert document.upload_link == Invitation.objects.get(kind="pediatrician")
    assert document.uploaded_by is None
    assert document.kind == "referral"
    log = AccessLog.objects.get(document_id=document.pk)
    assert (log.user, log.role, log.action, log.outcome) == (
        None,
        "pediatrician link",
        "upload",
        "allowed",
    )
    # The family sees it, marked as the pediatrician's; its own file is not.
    for path in (
        reverse("intake:request_detail", args=[review_request.reference]),
        reverse("records:wizard_referral", args=[review_request.reference]),
    ):
        text = client.get(path).content.decode()
        line = text[text.index("referral-letter.pdf") :].split("</li>")[0]
        assert FROM_PEDIATRICIAN in line
    status = client.get(reverse("intake:request_detail", args=[review_request.reference]))
    text = status.content.decode()
    assert text.count(FROM_PEDIATRICIAN) == 1
    family_line = text[text.index(FAMILY_FILE) :].split("</li>")[0]
    assert FROM_PEDIATRICIAN not in family_line


def test_sending_the_link_keeps_and_saves_what_was_typed_in_the_step(client, family, family_draft):
    sign_in(client, family)
    typed = {"name": "Dr. Lee", "practice": "Savannah Pediatrics", "phone": "912-555-0100"}

    response = invite_from_referral_step(client, family_draft, **typed)

    assert response.status_code == 302
    assert pediatrician_link()
    page = client.get(response.url).content.decode()
    assert 'value="Dr. Lee"' in page
    assert 'value="Savannah Pediatrics"' in page
    family_draft.refresh_from_db()
    assert family_draft.referring_pediatrician.name == "Dr. Lee"


def test_a_wrong_link_address_is_said_beside_it_and_nothing_typed_is_lost(
    client, family, family_draft
):
    sign_in(client, family)

    response = invite_from_referral_step(
        client, family_draft, email="not an address", name="Dr. Lee", practice="Savannah"
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter a valid email address." in page
    assert 'value="not an address"' in page
    assert 'value="Dr. Lee"' in page
    assert not Message.objects.filter(to=DOCTOR).exists()


def test_the_page_lists_only_files_sent_through_this_link_and_nothing_of_the_case(client, case):
    review_request, first_link = case
    doctor = Client()
    send_through(doctor, first_link, samples.pdf(), "old-link-letter.pdf", follow=True)
    # The family sends a new link (which withdraws the first): it lists only its own files.
    invite_from_referral_step(client, review_request)
    new_link = pediatrician_link()
    send_through(doctor, new_link, samples.image(), "clinic-photo.png", kind="record", follow=True)

    text = doctor.get(new_link).content.decode()

    assert "clinic-photo.png" in text
    assert "old-link-letter.pdf" not in text
    assert FAMILY_FILE not in text
    for private in CHILD.values():
        assert private not in text
    assert "Jordan Rivera" not in text  # nor the family
    assert "parent@example.org" not in text


@pytest.mark.parametrize(
    ("content", "name", "kind"),
    [
        (b"Dear colleague, please see attached.", "letter.pdf", "referral"),
        (samples.dicom(), "ct-scan.dcm", "record"),
    ],
    ids=["not-a-pdf", "imaging-as-record"],
)
def test_a_bad_file_gets_the_same_message_as_the_familys_and_nothing_is_stored(
    client, case, content, name, kind
):
    review_request, link = case
    before = stored_files()
    documents = Document.objects.count()
    family_error = family_upload(client, review_request, content, name, kind=kind).json()["error"]

    response = send_through(Client(), link, content, name, kind=kind, follow=True)

    assert family_error
    assert response.status_code == 200
    assert family_error in response.content.decode()
    assert Document.objects.count() == documents
    assert stored_files() == before
    assert not AccessLog.objects.filter(role="pediatrician link").exists()


def withdrawn_by_family(client, review_request, link):
    invitation = Invitation.objects.get(kind="pediatrician")
    response = client.post(
        reverse("intake:request_link_revoke", args=[review_request.reference, invitation.pk])
    )
    assert response.status_code == 302


def withdrawn_by_coordinator(client, review_request, link):
    from accounts.models import Role
    from tests.factories import staff_user

    coordinator = staff_user(Role.COORDINATOR, email="c2@example.org", full_name="Lee Morgan")
    invitation = Invitation.objects.get(kind="pediatrician")
    staff = sign_in(Client(), coordinator)
    response = staff.post(
        reverse("admin:intake_reviewrequest_revoke", args=[review_request.pk, invitation.pk])
    )
    assert response.status_code == 302


@pytest.mark.parametrize(
    "withdraw", [withdrawn_by_family, withdrawn_by_coordinator], ids=["family", "coordinator"]
)
def test_a_withdrawn_link_is_refused_and_the_attempt_logged(client, case, withdraw):
    review_request, link = case
    withdraw(client, review_request, link)
    doctor = Client()

    page = doctor.get(link)
    upload = send_through(doctor, link, samples.pdf(), "too-late.pdf")

    assert page.status_code == 410
    text = page.content.decode()
    assert "This link was withdrawn, or replaced by a newer one." in text
    assert f"Ask the family for a new link, or call {DEPARTMENT_PHONE}." in text
    assert "Send the file" not in text
    assert upload.status_code == 410
    assert not Document.objects.filter(original_name="too-late.pdf").exists()
    denied = AccessLog.objects.get(outcome="denied")
    assert (denied.role, denied.action, denied.request_id, denied.user) == (
        "pediatrician link",
        "upload",
        review_request.pk,
        None,
    )
    timeline = client.get(reverse("intake:request_detail", args=[review_request.reference]))
    assert escape("The pediatrician's upload link was withdrawn.") in timeline.content.decode()


def test_an_expired_link_is_refused_with_its_date_and_the_attempt_logged(case):
    review_request, link = case
    invitation = Invitation.objects.get(kind="pediatrician")
    expired_on = dateformat.format(timezone.localtime(invitation.expires_at), "F j, Y")
    doctor = Client()

    with time_machine.travel(invitation.expires_at + timedelta(hours=1)):
        page = doctor.get(link)
        upload = send_through(doctor, link, samples.pdf(), "too-late.pdf")

    assert page.status_code == 410
    assert f"This link expired on {expired_on}." in page.content.decode()
    assert upload.status_code == 410
    assert not Document.objects.filter(original_name="too-late.pdf").exists()
    assert AccessLog.objects.filter(
        role="pediatrician link", outcome="denied", request=review_request
    ).exists()


def test_a_link_withdrawn_after_the_page_checked_it_stores_nothing(
    client, family, case, monkeypatch
):
    """The family withdraws the link while the doctor's file is arriving: the view has
    already found the link open; the upload checks it again under the lock."""
    _, link = case
    opened = intake_services.invitation_opened

    def withdrawn_meanwhile(*, invitation):
        opened(invitation=invitation)
        invitation_revoke(invitation=Invitation.objects.get(pk=invitation.pk), actor=family)

    monkeypatch.setattr(intake_services, "invitation_opened", withdrawn_meanwhile)
    before = stored_files()
    doctor = Client()

    response = send_through(doctor, link, samples.pdf(), "arriving.pdf", follow=True)

    assert "This upload link no longer works." in response.content.decode()
    assert not Document.objects.filter(original_name="arriving.pdf").exists()
    assert stored_files() == before
    assert not AccessLog.objects.filter(role="pediatrician link", outcome="allowed").exists()


def test_document_upload_rechecks_a_link_revoked_since_it_was_read(family, case):
    review_request, _ = case
    stale = Invitation.objects.get(kind="pediatrician")  # read while it was open
    invitation_revoke(invitation=Invitation.objects.get(pk=stale.pk), actor=family)
    before = stored_files()

    with pytest.raises(Rejected, match=r"This upload link no longer works\."):
        records_services.document_upload(
            review_request=review_request,
            kind="referral",
            upload=samples.upload(samples.pdf(), "letter.pdf"),
            actor=None,
            ip_address="198.51.100.4",
            upload_link=stale,
        )

    assert stored_files() == before
    assert not Document.objects.filter(original_name="letter.pdf").exists()


def test_once_the_review_has_started_the_page_takes_no_more_files(
    client, family, published_service
):
    review_request = request_at(family=family, status=Status.SUBMITTED, service=published_service)
    sign_in(client, family)
    client.post(
        reverse("intake:request_invite", args=[review_request.reference, "pediatrician"]),
        {"pediatrician-email": DOCTOR},
    )
    link = pediatrician_link()
    doctor = Client()
    assert send_through(doctor, link, samples.pdf(), "in-time.pdf").status_code == 302
    review_request_transition(review_request=review_request, to_status=Status.IN_REVIEW, actor=None)
    before = stored_files()

    page = doctor.get(link)
    refused = send_through(doctor, link, samples.pdf(), "after-start.pdf", follow=True)

    assert page.status_code == 200
    text = page.content.decode()
    assert "This request no longer takes files." in text
    assert "Send the file" not in text
    assert "in-time.pdf" in text  # what was sent is still listed
    assert "This request no longer accepts files." in refused.content.decode()
    assert not Document.objects.filter(original_name="after-start.pdf").exists()
    assert stored_files() == before


def test_a_family_may_e_mail_only_so_many_links_an_hour_a_coordinator_more(
    client, family, family_draft, coordinator, settings
):
    settings.LINK_EMAILS_PER_HOUR = 2
    sign_in(client, family)

    sent = [invite_from_referral_step(client, family_draft).status_code for _ in range(2)]
    refused = invite_from_referral_step(client, family_draft)
    for _ in range(3):
        intake_services.invitation_send(
            review_request=family_draft,
            kind=Invitation.Kind.PEDIATRICIAN,
            email=DOCTOR,
            actor=coordinator,
        )

    assert sent == [302, 302]
    assert refused.status_code == 400
    assert "Several links were e-mailed in the last hour." in refused.content.decode()
    assert family_draft.service.department.phone in refused.content.decode()
    assert Message.objects.filter(to=DOCTOR).count() == 5
