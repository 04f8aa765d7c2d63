"""The phone-first path in headless Chromium: a coordinator starts a request for a family on
the phone, takes the fee in advance and e-mails an invitation; the parent opens the link on a
phone, creates an account, finds what the coordinator entered, completes every step, uploads
the files and sends the request, which starts its review at once. The link then works no more."""

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from billing.services import payment_record_phone
from intake.eligibility import EligibilityAnswers
from intake.lifecycle import Status
from intake.models import Invitation, ReviewRequest
from intake.services import invitation_send, review_request_start_for_family
from notifications.models import Message
from records.models import Document
from tests import samples
from tests.helpers import link_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FAMILY_EMAIL = "avery.parent@example.org"
LEGAL_NAME = "Avery Jordan Parker"
QUESTIONS = "Does she need surgery?"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def invited(published_service, coordinator):
    """A request the coordinator started on the phone, paid in advance, the family invited:
    the request and the path of the link in the invitation e-mail."""
    request = review_request_start_for_family(
        service=published_service,
        eligibility=EligibilityAnswers(
            state="GA", zip_code="31401", patient_age=12, hospitalized=False
        ),
        guardian={
            "legal_name": LEGAL_NAME,
            "email": FAMILY_EMAIL,
            "phone": "+19125550143",
            "relationship": "mother",
        },
        child={
            "first_name": "Mia",
            "last_name": "Parker",
            "date_of_birth": date(2014, 5, 30),
            "prior_diagnosis": "Adolescent idiopathic scoliosis",
            "current_treatment": "Night brace",
            "questions": QUESTIONS,
        },
        actor=coordinator,
    )
    payment_record_phone(
        review_request=request, amount_cents=50000, reference="4242", note="", actor=coordinator
    )
    invitation_send(review_request=request, kind="family", email=FAMILY_EMAIL, actor=coordinator)
    message = Message.objects.get(template="invitation_family", to=FAMILY_EMAIL)
    return request, link_in(message, "/invitations/")


def save_and_continue(page):
    page.get_by_role("button", name="Save and continue").click()


def upload(page, path, expect_name):
    page.locator("input[type=file]").set_input_files(str(path))
    page.get_by_role("button", name="Send files").click()
    sent = page.locator("[data-upload-progress] li", has_text=path.name)
    expect(sent.locator("progress")).to_have_count(1)
    expect(sent.get_by_text("Sent and checked.")).to_be_visible()
    expect(page.get_by_role("link", name=expect_name)).to_be_visible()  # added to the list


def test_an_invited_parent_signs_up_completes_the_request_on_a_phone_and_it_starts_at_once(
    live_server, page, browser, invited, tmp_path, csp_violations
):
    request, link_path = invited
    link = f"{live_server.url}{link_path}"
    referral = tmp_path / "referral letter.pdf"
    referral.write_bytes(samples.pdf())
    record = tmp_path / "clinic notes.pdf"
    record.write_bytes(samples.pdf())
    scan = tmp_path / "spine-ct.dcm"
    scan.write_bytes(samples.dicom("CT_small.dcm"))
    page.set_viewport_size(PHONE)

    # The link from the e-mail, signed out: an account for the invited address.
    response = page.goto(link)
    assert response.status == 200
    expect(page.get_by_role("heading", name="Finish your second-opinion request")).to_be_visible()
    expect(page.get_by_text(f"reference {request.reference}")).to_be_visible()
    expect(page.get_by_text("a•••@example.org")).to_be_visible()
    expect(page.get_by_label("Your full name")).to_have_value("")  # nothing shown yet
    page.get_by_label("Your full name").fill("Avery Parker")
    page.get_by_label("Choose a password").fill("a long family passphrase 42")
    # Only the family knows the child's date of birth: a mistyped address opens nothing.
    page.get_by_label("Your child's date of birth").fill("2014-05-30")
    page.get_by_role("button", name="Create account and continue").click()

    # You: what the coordinator entered is there; the parent completes it.
    expect(page.get_by_role("heading", name="You", exact=True)).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/requests/{request.reference}/you/")
    expect(page.get_by_text("Your coordinator filled in what you told them")).to_be_visible()
    expect(page.get_by_label("Your full legal name")).to_have_value(LEGAL_NAME)
    expect(page.get_by_label("Your relationship to the child")).to_have_value("mother")
    page.get_by_label(re.compile("I am the child's parent or legal guardian")).check()
    page.get_by_label("Street address").fill("12 Oak St")
    page.get_by_label("City").fill("Savannah")
    save_and_continue(page)

    # Your child.
    expect(page.get_by_role("heading", name="Your child", exact=True)).to_be_visible()
    expect(page.get_by_label("Child's first name")).to_have_value("Mia")
    expect(page.get_by_label("Date of birth")).to_have_value("2014-05-30")
    expect(page.get_by_label("Your questions for the reviewers")).to_have_value(QUESTIONS)
    page.get_by_label("Female").check()
    save_and_continue(page)

    # Medical history.
    expect(page.get_by_role("heading", name="Medical history", exact=True)).to_be_visible()
    page.get_by_label("Yes").check()
    save_and_continue(page)

    # Financial consent, signed by the parent (not by the coordinator).
    expect(page.get_by_text("flat fee of $500, self-pay")).to_be_visible()
    page.get_by_label("Type your full legal name to sign").fill(LEGAL_NAME)
    page.get_by_label(re.compile("I have read the financial consent")).check()
    save_and_continue(page)

    # Referral: the pediatrician's details typed, the letter sent, then both saved.
    expect(page.get_by_role("heading", name="Referral", exact=True)).to_be_visible()
    page.get_by_label("Pediatrician's name").fill("Dr. Ortiz")
    page.get_by_label("Practice or clinic").fill("Savannah Pediatrics")
    page.get_by_label("Practice phone").fill("912-555-0100")
    upload(page, referral, "referral letter.pdf")
    expect(page.get_by_label("Pediatrician's name")).to_have_value("Dr. Ortiz")  # nothing lost
    save_and_continue(page)

    # Records and imaging.
    expect(page.get_by_role("heading", name="Records and imaging", exact=True)).to_be_visible()
    expect(page.get_by_label("What is it?")).to_have_value("record")
    upload(page, record, "clinic notes.pdf")
    page.get_by_label("What is it?").select_option("imaging")
    upload(page, scan, "spine-ct.dcm")
    save_and_continue(page)

    # Review and send.
    expect(page.get_by_role("heading", name="Review and send", exact=True)).to_be_visible()
    expect(page.get_by_text("Dr. Ortiz")).to_be_visible()
    expect(page.get_by_text(QUESTIONS)).to_be_visible()
    expect(page.get_by_text("✗")).to_have_count(0)
    page.get_by_role("button", name="Send my request").click()

    # Paid in advance: sent means submitted, and the review clock runs.
    expect(page.get_by_text("Your request was sent. Thank you.")).to_be_visible()
    expect(page.get_by_text("Your written opinion is due by")).to_be_visible()
    timeline = page.locator("ol.timeline")
    for line in (
        "Your coordinator started this request with you on the phone.",
        "Your fee of $500.00 was paid by phone. Your review starts as soon as you send your "
        "request.",
        "Your coordinator e-mailed you an invitation to finish this request.",
        "You accepted the invitation and joined this request.",
        "Your request is complete and paid. The review clock is running.",
    ):
        expect(timeline.get_by_text(line, exact=True)).to_have_count(1)  # each said once
    request.refresh_from_db()
    assert request.status == Status.SUBMITTED
    assert request.submitted_at is not None
    assert request.family.email == FAMILY_EMAIL
    assert request.family.email_verified_at is not None
    kinds = dict(Document.objects.filter(request=request).values_list("original_name", "kind"))
    assert kinds == {
        "referral letter.pdf": "referral",
        "clinic notes.pdf": "record",
        "spine-ct.dcm": "imaging",
    }
    assert csp_violations == []

    # The same link, opened again in a fresh browser: it has been used.
    fresh = browser.new_context(viewport=PHONE)
    try:
        again = fresh.new_page()
        response = again.goto(link)
        assert response.status == 410
        expect(again.get_by_role("heading", name="This link no longer works")).to_be_visible()
        expect(again.get_by_text("This invitation has already been used.")).to_be_visible()
        expect(again.get_by_role("button", name="Create account and continue")).to_have_count(0)
    finally:
        fresh.close()
    assert ReviewRequest.objects.get(pk=request.pk).family.email == FAMILY_EMAIL
    assert Invitation.objects.get(request=request, kind="family").accepted_at is not None
