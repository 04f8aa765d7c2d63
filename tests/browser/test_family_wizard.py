"""A parent on a phone sends a complete request, as in real life, in headless Chromium."""

import re

import pytest
from playwright.sync_api import expect

from intake.lifecycle import Status
from intake.models import ReviewRequest
from records.models import Document
from tests import samples
from tests.browser.test_family_path import check_eligibility
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def save_and_continue(page):
    page.get_by_role("button", name="Save and continue").click()


def upload(page, path, expect_name):
    page.locator("input[type=file]").set_input_files(str(path))
    page.get_by_role("button", name="Send files").click()
    sent = page.locator("[data-upload-progress] li", has_text=path.name)
    expect(sent.locator("progress")).to_have_count(1)
    expect(sent.get_by_text("Sent and checked.")).to_be_visible()
    expect(page.get_by_role("link", name=expect_name)).to_be_visible()  # added to the list


def test_a_parent_checks_eligibility_fills_every_step_uploads_and_sends(
    live_server, page, family, published_service, tmp_path, csp_violations
):
    referral = tmp_path / "referral letter.pdf"
    referral.write_bytes(samples.pdf())
    scan = tmp_path / "spine-ct.dcm"
    scan.write_bytes(samples.dicom("CT_small.dcm"))
    notes = tmp_path / "clinic notes.jpg"
    notes.write_bytes(samples.image("JPEG", size=(800, 600)))
    page.set_viewport_size({"width": 390, "height": 844})

    # Choose and check, before any account.
    check_eligibility(page, live_server, published_service)

    # Sign in: straight into the request, with the answers kept.
    page.get_by_role("link", name="Sign in", exact=True).last.click()
    page.get_by_label("E-mail address").fill(family.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # You.
    expect(page.get_by_role("heading", name="You", exact=True)).to_be_visible()
    expect(page.get_by_label("ZIP code")).to_have_value("31401")
    page.get_by_label("Your full legal name").fill("Jordan Avery Rivera")
    page.get_by_label("Your relationship to the child").select_option("mother")
    page.get_by_label(re.compile("I am the child's parent or legal guardian")).check()
    page.get_by_label("Phone").fill("912-555-0143")
    page.get_by_label("Street address").fill("12 Oak St")
    page.get_by_label("City").fill("Savannah")
    save_and_continue(page)

    # Your child.
    page.get_by_label("Child's first name").fill("Sam")
    page.get_by_label("Child's last name").fill("Rivera")
    page.get_by_label("Date of birth").fill("2014-05-30")
    page.get_by_label("Female").check()
    page.get_by_label("The diagnosis your child was given").fill("Scoliosis, 32 degrees")
    page.get_by_label("Your questions for the reviewers").fill("Is surgery needed now?")
    save_and_continue(page)

    # Medical history.
    page.get_by_label("Yes").check()
    save_and_continue(page)

    # Financial consent.
    expect(page.get_by_text("flat fee of $500, self-pay")).to_be_visible()
    page.get_by_label("Type your full legal name to sign").fill("Jordan Avery Rivera")
    page.get_by_label(re.compile("I have read the financial consent")).check()
    save_and_continue(page)
    expect(page.get_by_role("heading", name="Referral", exact=True)).to_be_visible()

    # Referral: the pediatrician's details typed, the letter sent, then both saved.
    page.get_by_label("Pediatrician's name").fill("Dr. Lee")
    page.get_by_label("Practice or clinic").fill("Savannah Pediatrics")
    page.get_by_label("Practice phone").fill("912-555-0100")
    upload(page, referral, "referral letter.pdf")
    expect(page.get_by_label("Pediatrician's name")).to_have_value("Dr. Lee")  # nothing lost
    save_and_continue(page)

    # Records and imaging.
    upload(page, notes, "clinic notes.jpg")
    page.get_by_label("What is it?").select_option("imaging")
    upload(page, scan, "spine-ct.dcm")
    save_and_continue(page)

    # Review and send.
    expect(page.get_by_text("Dr. Lee")).to_be_visible()
    expect(page.get_by_text("✗")).to_have_count(0)
    page.get_by_role("button", name="Send my request").click()

    expect(page.get_by_text("Your request was sent. Thank you.")).to_be_visible()
    expect(page.get_by_text("The flat fee of $500 is due next")).to_be_visible()
    request = ReviewRequest.objects.get()
    assert request.status == Status.AWAITING_PAYMENT
    names = sorted(Document.objects.values_list("original_name", flat=True))
    assert names == ["clinic notes.jpg", "referral letter.pdf", "spine-ct.dcm"]
    assert csp_violations == []


def test_a_refused_file_is_explained_on_the_page(live_server, page, family, family_draft, tmp_path):
    fake = tmp_path / "report.pdf"
    fake.write_bytes(b"<html><script>alert(1)</script></html>")
    page.goto(f"{live_server.url}/accounts/sign-in/")
    page.get_by_label("E-mail address").fill(family.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}/requests/{family_draft.reference}/records/")

    page.locator("input[type=file]").set_input_files(str(fake))
    page.get_by_role("button", name="Send files").click()

    expect(page.get_by_role("alert")).to_contain_text("Web pages are not accepted.")
    assert not Document.objects.exists()


def test_enter_in_a_field_saves_and_continues_and_the_link_keeps_the_details_typed(
    live_server, page, family, family_draft
):
    """On a phone the keyboard's Go key sends the form as Enter does: it must not take the
    parent to the first step. And e-mailing the pediatrician a link keeps what was typed."""
    from tests.browser.session import signed_in

    signed_in(page, live_server, family)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/requests/{family_draft.reference}/referral/")

    page.get_by_label("Pediatrician's name").fill("Dr. Lee")
    page.get_by_label("Practice or clinic").fill("Savannah Pediatrics")
    # Enter in the link's address field sends the link (not the step's "Save and continue").
    page.get_by_label("E-mail address").fill("dr.lee@example.com")
    page.get_by_label("E-mail address").press("Enter")
    expect(page.get_by_text("The link was e-mailed to dr.lee@example.com.")).to_be_visible()
    expect(page.get_by_label("Pediatrician's name")).to_have_value("Dr. Lee")
    expect(page.get_by_label("Practice or clinic")).to_have_value("Savannah Pediatrics")

    page.get_by_label("Practice phone").fill("912-555-0100")
    page.get_by_label("Practice phone").press("Enter")

    expect(page.get_by_role("heading", name="Records and imaging")).to_be_visible()
    family_draft.refresh_from_db()
    assert family_draft.referring_pediatrician.phone.endswith("9125550100")
