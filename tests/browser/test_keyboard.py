"""Keyboard only, as a parent who cannot use a mouse: Tab and Shift-Tab to move, Enter and
Space to act, typing in fields. Focus must be visible at every stop."""

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from intake.lifecycle import Status
from notifications.models import Message
from scheduling.models import Booking
from tests import samples
from tests.browser.session import share_session
from tests.intake.test_wizard import CHILD, GUARDIAN, step

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def focus_is_visible(page) -> bool:
    """The focused control, or the label drawn for a hidden radio, shows an outline or ring.

    Waited for briefly: right after a key, Chromium can leave a date field's focus on one of
    its inner parts for a moment, before the field itself matches ``:focus``."""
    try:
        page.wait_for_function(
            """() => {
                let el = document.activeElement;
                if (el.classList.contains("btn-check")) { el = el.nextElementSibling; }
                const s = getComputedStyle(el);
                const outlined = s.outlineStyle !== "none" && s.outlineWidth !== "0px";
                return outlined || s.boxShadow !== "none";
            }""",
            timeout=2000,
        )
    except PlaywrightTimeout:
        return False
    return True


def tab_to(page, locator, *, backwards=False, limit=120):
    """Press Tab (or Shift-Tab) until ``locator`` has the focus, checking each stop shows it."""
    target = locator.element_handle()
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        assert focus_is_visible(page), page.evaluate("() => document.activeElement.outerHTML")
        if page.evaluate("el => document.activeElement === el", target):
            return
    raise AssertionError(f"Tab never reached {locator}")


def type_into(page, locator, text):
    tab_to(page, locator)
    page.keyboard.type(text)


def test_a_parent_books_a_call_with_the_keyboard_only(live_server, page, neurology):
    page.goto(f"{live_server.url}/")

    tab_to(page, page.get_by_role("link", name="Book a free informational call").first)
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_label("Select a department"))
    page.keyboard.press("ArrowDown")  # a select's options are chosen with the arrows
    tab_to(page, page.get_by_role("button", name="See available times"))
    page.keyboard.press("Enter")
    tab_to(page, page.locator("a[href*='/calls/neurology/book/']").first)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Neurology: your details")).to_be_visible()
    type_into(page, page.locator("[name=parent_name]"), "Jordan Rivera")
    type_into(page, page.locator("[name=phone]"), "404-555-0123")
    type_into(page, page.locator("[name=email]"), "jordan@example.org")
    type_into(page, page.locator("[name=child_first_name]"), "Alex")
    type_into(page, page.locator("[name=child_age]"), "9")
    tab_to(page, page.locator("[name=consent_to_contact]"))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_role("button", name="Book the call"))
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Your call is booked")).to_be_visible()
    assert Booking.objects.get().email == "jordan@example.org"
    assert Message.objects.filter(template="call_booked").exists()


def test_a_parent_dates_signs_uploads_and_sends_with_the_keyboard_only(
    live_server, page, family, family_draft, tmp_path
):
    client = Client()
    client.force_login(family)
    reference = family_draft.reference
    step(client, "intake:wizard_guardian", reference, GUARDIAN)
    step(client, "intake:wizard_child", reference, {**CHILD, "date_of_birth": ""})
    step(client, "intake:wizard_questionnaire", reference, {"back_pain": "no"})
    step(
        client,
        "records:wizard_referral",
        reference,
        {"name": "Dr. Lee", "practice": "Savannah Pediatrics", "phone": "912-555-0100"},
    )
    share_session(page, live_server, client)
    referral = tmp_path / "referral.pdf"
    referral.write_bytes(samples.pdf())
    scan = tmp_path / "spine.dcm"
    scan.write_bytes(samples.dicom("CT_small.dcm"))

    # The date picker, by typing its digits.
    page.goto(f"{live_server.url}{reverse('intake:wizard_child', args=[reference])}")
    tab_to(page, page.get_by_label("Date of birth"))
    page.keyboard.type("05302014")
    tab_to(page, page.get_by_role("button", name="Save and continue"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Medical history")).to_be_visible()

    # The consent: the name typed, the box ticked with Space, Enter on the button.
    page.goto(f"{live_server.url}{reverse('intake:wizard_consent', args=[reference])}")
    type_into(page, page.get_by_label("Type your full legal name to sign"), "Jordan Avery Rivera")
    tab_to(page, page.locator("[name=agree]"))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_role("button", name="Save and continue"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Referral", exact=True)).to_be_visible()

    # The upload control: Space opens the file chooser, Enter sends.
    notes = tmp_path / "clinic notes.pdf"
    notes.write_bytes(samples.pdf())
    for path, step_name, arrows in (
        (referral, None, 0),
        (notes, "records:wizard_documents", 0),  # "Medical records", the first kind
        (scan, "records:wizard_documents", 1),  # "Imaging", one down
    ):
        if step_name:
            page.goto(f"{live_server.url}{reverse(step_name, args=[reference])}")
        if arrows:
            tab_to(page, page.get_by_label("What is it?"))
            page.keyboard.press("ArrowDown")
        with page.expect_file_chooser() as chooser:
            tab_to(page, page.locator("input[type=file]"))
            page.keyboard.press("Space")
        chooser.value.set_files(str(path))
        tab_to(page, page.get_by_role("button", name="Send files"))
        page.keyboard.press("Enter")
        expect(page.locator("[data-upload-progress] li", has_text=path.name)).to_contain_text(
            "Sent and checked."
        )

    # Review and send.
    page.goto(f"{live_server.url}{reverse('intake:wizard_review', args=[reference])}")
    tab_to(page, page.get_by_role("button", name="Send my request"))
    page.keyboard.press("Enter")

    expect(page.get_by_text("Your request was sent. Thank you.")).to_be_visible()
    family_draft.refresh_from_db()
    assert family_draft.status == Status.AWAITING_PAYMENT
    assert str(family_draft.child.date_of_birth) == "2014-05-30"
