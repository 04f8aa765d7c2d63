"""A second parent or guardian shares a request: the primary guardian (or a coordinator)
invites them, they join through their link, see and add what the primary sees and adds, sign
the consent only with legal authority, manage nothing, and lose everything from the next page
once their access is removed. Through the pages, each person in their own browser."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from intake.models import ConsentSignature, Invitation, RequestEvent, SharedAccess
from notifications.models import Message
from records.models import AccessLog, Document
from tests import samples
from tests.conftest import sign_in
from tests.helpers import link_in
from tests.intake.invitation_setup import NEW_PASSWORD

pytestmark = pytest.mark.django_db

SECOND_EMAIL = "casey.rivera@example.org"
SECOND_NAME = "Casey Morgan Rivera"
JOINED = f"{SECOND_NAME} joined this request as a second guardian."
REMOVED = f"{SECOND_NAME} no longer has access to this request."


def status_page(review_request) -> str:
    return reverse("intake:request_detail", args=[review_request.reference])


def invite_from_status_page(client, review_request, email=SECOND_EMAIL):
    return client.post(
        reverse("intake:request_invite", args=[review_request.reference, "guardian"]),
        {"guardian-email": email},
        follow=True,
    )


def guardian_link() -> str:
    return link_in(
        Message.objects.filter(template="invitation_guardian").latest("pk"), "/invitations/"
    )


def join(link, *, authority: bool, name: str = SECOND_NAME) -> tuple[Client, User]:
    """The second guardian, in their own browser: creates the account for the invited
    address, then states who they are to the child."""
    browser = Client()
    signed_up = browser.post(link, {"full_name": "Casey Rivera", "password": NEW_PASSWORD})
    assert signed_up.status_code == 302
    assert signed_up.url == link  # next: say who they are to the child
    form = browser.get(link).content.decode()
    assert "Join this request" in form
    assert 'value="Casey Rivera"' in form  # the name of the account, to correct if need be
    details = {"legal_name": name, "relationship": "father"}
    if authority:
        details["has_legal_authority"] = "on"
    joined = browser.post(link, details)
    assert joined.status_code == 302
    return browser, User.objects.get(email=SECOND_EMAIL)


def upload(browser, review_request, content, name, kind="record"):
    return browser.post(
        reverse("records:upload", args=[review_request.reference]),
        {"kind": kind, "file": samples.upload(content, name)},
        HTTP_ACCEPT="application/json",
    )


@pytest.fixture
def shared(client, family, family_draft):
    """The family's draft with one file of its own, shared with a second guardian (with
    legal authority). ``client`` is the primary guardian's browser."""
    sign_in(client, family)
    assert upload(client, family_draft, samples.pdf(), "school-report.pdf").status_code == 201
    invite_from_status_page(client, family_draft)
    browser, second = join(guardian_link(), authority=True)
    return family_draft, browser, second


def test_the_primary_guardian_invites_from_the_status_page(client, family, family_draft):
    sign_in(client, family)

    page = client.get(status_page(family_draft)).content.decode()
    response = invite_from_status_page(client, family_draft)

    assert "Invite the child's other parent or guardian" in page
    assert response.status_code == 200
    assert f"The link was e-mailed to {SECOND_EMAIL}." in response.content.decode()
    invitation = Invitation.objects.get(kind="guardian")
    assert invitation.email == SECOND_EMAIL
    assert invitation.created_by == family
    message = Message.objects.get(template="invitation_guardian")
    assert message.to == SECOND_EMAIL
    assert "An invitation was e-mailed to a second guardian." in response.content.decode()
    # The primary sees the link waiting, and can withdraw it.
    assert "Withdraw link" in response.content.decode()


def test_the_second_guardian_joins_and_both_see_the_request_its_timeline_and_files(client, shared):
    review_request, browser, second = shared
    access = SharedAccess.objects.get()

    assert access.user == second
    assert access.legal_name == SECOND_NAME
    assert access.relationship == "father"
    assert access.has_legal_authority is True
    for guardian_browser in (client, browser):
        page = guardian_browser.get(status_page(review_request))
        assert page.status_code == 200
        text = page.content.decode()
        assert text.count(JOINED) == 1
        assert "school-report.pdf" in text
        assert f"{SECOND_NAME} · second guardian" in text
        documents = guardian_browser.get(
            reverse("records:wizard_documents", args=[review_request.reference])
        )
        assert "school-report.pdf" in documents.content.decode()
    # Read in Spanish, the line is Spanish around the name as typed.
    second.language = "es"
    second.save(update_fields=["language"])
    spanish = browser.get(status_page(review_request)).content.decode()
    assert f"{SECOND_NAME} se unió a esta solicitud como segundo tutor." in spanish
    assert JOINED not in spanish
    second.language = "en"
    second.save(update_fields=["language"])
    # The shared request is among the second guardian's requests, and the file opens.
    assert review_request.reference in browser.get(reverse("intake:my_requests")).content.decode()
    family_file = Document.objects.get(original_name="school-report.pdf")
    opened = browser.get(reverse("records:document_file", args=[family_file.pk]))
    assert opened.status_code == 200
    assert AccessLog.objects.filter(user=second, action="view", outcome="allowed").count() == 1


def test_the_second_guardian_adds_files_the_primary_sees(client, shared):
    review_request, browser, second = shared

    response = upload(browser, review_request, samples.image(), "x-ray-photo.png")

    assert response.status_code == 201
    document = Document.objects.get(original_name="x-ray-photo.png")
    assert document.uploaded_by == second
    assert document.upload_link is None
    assert "x-ray-photo.png" in client.get(status_page(review_request)).content.decode()
    assert AccessLog.objects.filter(user=second, action="upload", role="family").count() == 1


def test_the_you_step_shows_the_primary_guardians_details_read_only_to_the_second(client, shared):
    review_request, browser, _ = shared
    you = reverse("intake:wizard_guardian", args=[review_request.reference])
    client.post(you, {"legal_name": "Jordan Rivera", "phone": "(912) 555-0143"})

    page = browser.get(you).content.decode()
    browser.post(you, {"legal_name": "Someone Else", "phone": "(912) 555-0100"})

    assert "only they can change these" in page
    assert 'value="Jordan Rivera"' in page
    assert "disabled" in page
    review_request.guardian.refresh_from_db()
    assert review_request.guardian.legal_name == "Jordan Rivera"
    assert review_request.guardian.phone == "+19125550143"


# --- The consent ------------------------------------------------------------------------------


def consent(browser, review_request, typed_name):
    return browser.post(
        reverse("intake:wizard_consent", args=[review_request.reference]),
        {"typed_name": typed_name, "agree": "on"},
    )


def test_a_second_guardian_without_legal_authority_cannot_sign(client, family, family_draft):
    sign_in(client, family)
    invite_from_status_page(client, family_draft)
    browser, _ = join(guardian_link(), authority=False)

    response = consent(browser, family_draft, SECOND_NAME)

    assert response.status_code == 200
    assert "Only a guardian with legal authority to consent for the child can sign." in (
        response.content.decode()
    )
    assert not ConsentSignature.objects.exists()
    # Everyone on the request can see why.
    assert "cannot sign the consent" in client.get(status_page(family_draft)).content.decode()


def test_a_second_guardian_with_legal_authority_signs_with_their_own_legal_name(shared):
    review_request, browser, second = shared

    primary_name = consent(browser, review_request, "Jordan Rivera")
    own_name = consent(browser, review_request, " casey  morgan RIVERA ")

    assert primary_name.status_code == 200
    assert f"Type your full legal name exactly as given: {SECOND_NAME}." in (
        primary_name.content.decode()
    )
    assert own_name.status_code == 302
    signature = ConsentSignature.objects.get()
    assert signature.signed_by == second
    assert signature.signed_name == "casey morgan RIVERA"
    page = browser.get(reverse("intake:wizard_consent", args=[review_request.reference]))
    assert "Signed by <strong>casey morgan RIVERA</strong>" in page.content.decode()


def test_the_primary_guardian_can_still_fill_in_their_details_after_the_second_signed(
    client, shared
):
    review_request, browser, _ = shared
    assert consent(browser, review_request, SECOND_NAME).status_code == 302
    you = reverse("intake:wizard_guardian", args=[review_request.reference])

    page = client.get(you).content.decode()
    response = client.post(
        you,
        {
            "legal_name": "Jordan Lee Rivera",
            "relationship": "mother",
            "has_legal_authority": "on",
            "phone": "(912) 555-0143",
            "email": "parent@example.org",
            "address_line1": "12 Oak St",
            "city": "Savannah",
            "state": "GA",
            "zip_code": "31401",
        },
    )

    assert response.status_code == 302
    review_request.refresh_from_db()
    name_field = re.search(r'<input[^>]*name="legal_name"[^>]*>', page).group(0)
    assert "readonly" not in name_field  # the primary's name is not on the consent
    assert review_request.guardian.legal_name == "Jordan Lee Rivera"
    assert ConsentSignature.objects.get().signed_name == SECOND_NAME


# --- What only the primary guardian does ------------------------------------------------------


def test_a_second_guardian_cannot_invite_withdraw_links_or_remove_access(client, shared):
    review_request, browser, _ = shared
    reference = review_request.reference
    invite_from_status_page(client, review_request, email="grandma@example.org")
    open_link = Invitation.objects.get(email="grandma@example.org")
    access = SharedAccess.objects.get()

    attempts = [
        browser.post(
            reverse("intake:request_invite", args=[reference, "guardian"]),
            {"guardian-email": "third.person@example.org"},
        ),
        browser.post(
            reverse("intake:request_invite", args=[reference, "pediatrician"]),
            {"pediatrician-email": "dr.ortiz@example.org"},
        ),
        browser.post(reverse("intake:request_link_revoke", args=[reference, open_link.pk])),
        browser.post(reverse("intake:request_access_remove", args=[reference, access.pk])),
    ]

    assert [attempt.status_code for attempt in attempts] == [404, 404, 404, 404]
    assert not Invitation.objects.filter(email="third.person@example.org").exists()
    assert not Invitation.objects.filter(kind="pediatrician").exists()
    open_link.refresh_from_db()
    assert open_link.revoked_at is None
    access.refresh_from_db()
    assert access.removed_at is None
    page = browser.get(status_page(review_request)).content.decode()
    assert "Send the invitation" not in page
    assert "Remove access" not in page
    assert "Withdraw link" not in page


def test_the_primary_removes_access_and_the_second_guardian_loses_it_from_the_next_request(
    client, family, shared
):
    review_request, browser, second = shared
    assert upload(browser, review_request, samples.image(), "x-ray-photo.png").status_code == 201
    access = SharedAccess.objects.get()
    files = list(Document.objects.all())

    response = client.post(
        reverse("intake:request_access_remove", args=[review_request.reference, access.pk]),
        follow=True,
    )

    assert response.status_code == 200
    assert response.content.decode().count(REMOVED) >= 1
    access.refresh_from_db()
    assert access.removed_by == family
    assert browser.get(status_page(review_request)).status_code == 404
    for document in files:
        assert browser.get(reverse("records:document_file", args=[document.pk])).status_code == 404
    assert upload(browser, review_request, samples.pdf(), "late.pdf").status_code == 404
    assert (
        review_request.reference not in browser.get(reverse("intake:my_requests")).content.decode()
    )
    assert not Document.objects.filter(original_name="late.pdf").exists()
    assert AccessLog.objects.filter(user=second, outcome="denied").count() == len(files)
    # The family's timeline says so; the second guardian is no longer listed.
    page = client.get(status_page(review_request)).content.decode()
    assert page.count(REMOVED) == 1
    assert f"{SECOND_NAME} · second guardian" not in page


# --- The coordinator ----------------------------------------------------------------------------


def test_a_coordinator_invites_a_second_guardian_and_removes_them_from_the_admin(
    client, coordinator, family_draft
):
    sign_in(client, coordinator)

    sent = client.post(
        reverse("admin:intake_reviewrequest_invite", args=[family_draft.pk, "guardian"]),
        {"email": SECOND_EMAIL},
    )
    assert sent.status_code == 302
    assert Invitation.objects.get(kind="guardian").created_by == coordinator
    browser, _ = join(guardian_link(), authority=False)
    assert browser.get(status_page(family_draft)).status_code == 200
    change = client.get(reverse("admin:intake_reviewrequest_change", args=[family_draft.pk]))
    assert SECOND_NAME in change.content.decode()
    access = SharedAccess.objects.get()

    removed = client.post(
        reverse("admin:intake_reviewrequest_remove_access", args=[family_draft.pk, access.pk])
    )

    assert removed.status_code == 302
    access.refresh_from_db()
    assert access.removed_by == coordinator
    assert browser.get(status_page(family_draft)).status_code == 404
    notes = RequestEvent.objects.filter(request=family_draft, kind="access")
    assert [event.note_text for event in notes.order_by("pk")] == [JOINED, REMOVED]


def test_a_second_guardian_can_be_invited_after_the_request_was_sent(
    client, family, family_request
):
    sign_in(client, family)

    invite_from_status_page(client, family_request)
    browser, _ = join(guardian_link(), authority=True)

    page = browser.get(status_page(family_request))
    assert page.status_code == 200
    assert "school-report.pdf" in page.content.decode()


# --- Addresses already on the request -----------------------------------------------------------


def test_inviting_an_address_already_on_the_request_is_refused_with_a_clear_message(
    client, family, coordinator, shared
):
    review_request, _, _ = shared
    already = "This address is already a guardian on this request."

    own = invite_from_status_page(client, review_request, email="PARENT@example.org")
    second = invite_from_status_page(client, review_request, email=SECOND_EMAIL)
    sign_in(client, coordinator)
    from_admin = client.post(
        reverse("admin:intake_reviewrequest_invite", args=[review_request.pk, "guardian"]),
        {"email": SECOND_EMAIL},
    )

    assert already in own.content.decode()
    assert already in second.content.decode()
    assert from_admin.status_code == 200
    assert already in from_admin.content.decode()
    assert Invitation.objects.filter(kind="guardian").count() == 1  # the one accepted
    assert Message.objects.filter(template="invitation_guardian").count() == 1
