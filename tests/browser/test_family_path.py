"""The family's path as a new parent on a phone found it (issue 17), in headless Chromium at
390 by 844: the paid reviews found first on the front page; upload status that never
contradicts itself (and a PDF that shows its first page or an icon, never an empty square);
"continue" opening the first unfinished step; signing in or creating an account from an
eligibility result going straight into the request. Each page is checked with axe-core."""

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from intake.models import ReviewRequest
from notifications.models import Message
from records.models import Document
from records.services import document_process
from tests import samples
from tests.browser.accessibility import axe_violations, sideways_scroll
from tests.browser.session import signed_in
from tests.factories import PASSWORD, DepartmentFactory, ReviewServiceFactory
from tests.intake.test_wizard import CHILD, GUARDIAN, step
from tests.records.test_upload_status import text_pdf

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
# The worker's result reaches the page at the script's next look (every two seconds).
WORKER = 15_000


def accessible(page):
    assert axe_violations(page) == []
    assert sideways_scroll(page) == 0


def check_eligibility(page, live_server, service):
    page.goto(f"{live_server.url}/services/{service.slug}/")
    page.get_by_label("State where you live").select_option("GA")
    page.get_by_label("ZIP code").fill("31401")
    page.get_by_label("Your child's age in years").fill("12")
    page.get_by_label("No").check()
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_role("heading", name="You can ask for this review")).to_be_visible()


# --- 1. The paid reviews, first on a phone ----------------------------------------------------


def test_on_a_phone_the_paid_reviews_have_their_own_section_above_the_calls(live_server, page):
    orthopedics = DepartmentFactory(name="Orthopedics", slug="orthopedics")
    for name in ("Cardiology", "Neurology", "Oncology"):
        DepartmentFactory(name=name, slug=name.lower())
    ReviewServiceFactory(
        department=orthopedics,
        name="Spine document review",
        slug="spine-document-review",
        fee_cents=50000,
        readers="three spine program leaders",
    )
    ReviewServiceFactory(
        department=orthopedics,
        name="Hip document review",
        slug="hip-document-review",
        fee_cents=16700,
        readers="one hip program leader",
        reviewers_required=1,
    )
    page.set_viewport_size(PHONE)

    page.goto(f"{live_server.url}/")

    heading = page.get_by_role("heading", name="Written reviews of your child's records")
    expect(heading).to_be_in_viewport()  # on the first screen, no scrolling
    calls = page.get_by_role("heading", name="Free informational calls")
    first_call_card = page.get_by_role("heading", name="Cardiology")
    assert heading.bounding_box()["y"] < calls.bounding_box()["y"]
    assert calls.bounding_box()["y"] < first_call_card.bounding_box()["y"]
    reviews = page.locator("#reviews")
    spine = reviews.get_by_role("article").filter(has_text="Spine document review")
    for text in (
        "Flat fee of $500",
        "Read by three spine program leaders.",
        "Written opinion within 7–10 days",
    ):
        expect(spine.get_by_text(text)).to_be_visible()
    expect(reviews.get_by_text("Flat fee of $167")).to_be_visible()
    accessible(page)

    spine.get_by_role("link", name=re.compile("Check if it is for your child")).click()

    expect(page.get_by_role("heading", name="Is this review for your child?")).to_be_visible()


# --- 2. Upload status tells the truth ------------------------------------------------------------


def line_of(page, name):
    return page.locator("[data-file-list] li", has_text=name)


def send(page, path, kind):
    page.get_by_label("What is it?").select_option(kind)
    page.locator("input[type=file]").set_input_files(str(path))
    page.get_by_role("button", name="Send files").click()
    sent = page.locator("[data-upload-progress] li", has_text=path.name)
    expect(sent.get_by_text("Sent and checked.")).to_be_visible()


def worker_reads(name):
    """What the worker does after an upload (the test's broker has no worker)."""
    assert document_process(document_id=Document.objects.get(original_name=name).pk)


def test_after_sent_and_checked_the_list_and_the_checklist_agree_and_follow_the_worker(
    live_server, page, family, family_draft, tmp_path
):
    scan = tmp_path / "spine-ct.dcm"
    scan.write_bytes(samples.dicom("CT_small.dcm"))
    report = tmp_path / "radiology report.pdf"
    report.write_bytes(text_pdf())
    blank = tmp_path / "cover page.pdf"
    blank.write_bytes(samples.pdf())
    page.set_viewport_size(PHONE)
    signed_in(page, live_server, family)
    page.goto(f"{live_server.url}/requests/{family_draft.reference}/records/")
    needed = page.locator("[data-still-needed]")
    expect(needed).to_have_text(
        "Still needed here: at least one file: medical records; "
        "at least one file: imaging (X-ray, MRI, CT)."
    )

    send(page, scan, "imaging")

    # At once: the file is listed as received, and the checklist no longer asks for it.
    expect(line_of(page, "spine-ct.dcm")).to_contain_text("received; preview being prepared")
    expect(page.get_by_text("being checked")).to_have_count(0)
    expect(needed).to_have_text("Still needed here: at least one file: medical records.")
    expect(line_of(page, "spine-ct.dcm").locator("[data-file-icon]")).to_be_visible()
    # Then the worker reads it: the page follows without a reload.
    worker_reads("spine-ct.dcm")
    expect(line_of(page, "spine-ct.dcm")).to_contain_text("1 series, 1 image", timeout=WORKER)
    expect(line_of(page, "spine-ct.dcm")).not_to_contain_text("preview being prepared")
    expect(line_of(page, "spine-ct.dcm").locator("img[data-thumbnail]")).to_be_visible()

    # A PDF report: its first page, whole, with its words on it.
    records_step = page.locator("[data-wizard-steps] li", has_text="Records and imaging")
    expect(records_step).not_to_contain_text("✓")
    send(page, report, "record")
    expect(needed).to_be_hidden()
    expect(records_step).to_contain_text("✓")  # the list of steps too, without a reload
    worker_reads("radiology report.pdf")
    thumbnail = line_of(page, "radiology report.pdf").locator("img[data-thumbnail]")
    expect(thumbnail).to_be_visible(timeout=WORKER)
    page.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle()
    )
    shown = Image.open(io.BytesIO(thumbnail.screenshot())).convert("L")
    inside = shown.crop((3, 3, shown.width - 3, shown.height - 3))  # not the border
    dark, light = inside.getextrema()
    assert light > 240, "the page is shown on white"
    assert dark < 200, "the thumbnail shows no writing: an empty square"

    # A PDF whose first page is blank: its icon, never an empty square.
    send(page, blank, "record")
    worker_reads("cover page.pdf")
    page.wait_for_timeout(2500)  # the script's next look
    icon = line_of(page, "cover page.pdf").locator("[data-file-icon]")
    expect(icon).to_be_visible(timeout=WORKER)
    expect(icon).to_have_text("PDF")
    expect(line_of(page, "cover page.pdf").locator("img")).to_have_count(0)
    accessible(page)

    # A reload shows exactly what the page showed.
    page.reload()
    expect(line_of(page, "spine-ct.dcm")).to_contain_text("1 series, 1 image")
    expect(needed).to_be_hidden()


# --- 3. "Not sent yet: continue" ----------------------------------------------------------------


def test_continue_opens_the_first_step_still_to_fill_in(live_server, page, family, family_draft):
    page.set_viewport_size(PHONE)
    other_device = signed_in(page, live_server, family)
    step(other_device, "intake:wizard_guardian", family_draft.reference, GUARDIAN)
    step(other_device, "intake:wizard_child", family_draft.reference, CHILD)

    page.goto(f"{live_server.url}/requests/")
    accessible(page)
    page.get_by_role("link", name=re.compile("Not sent yet: continue")).click()

    expect(page.get_by_role("heading", name="Medical history", exact=True)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/medical-history/$"))


# --- 4. From an eligibility result straight into the request --------------------------------------


def test_signing_in_from_the_result_opens_the_request_with_the_answers(
    live_server, page, family, published_service
):
    page.set_viewport_size(PHONE)
    check_eligibility(page, live_server, published_service)

    page.locator("#start").locator("..").get_by_role("link", name="Sign in").click()
    page.get_by_label("E-mail address").fill(family.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="You", exact=True)).to_be_visible()
    expect(page.get_by_text("Your request is started, with the answers you gave.")).to_be_visible()
    expect(page.get_by_label("ZIP code")).to_have_value("31401")
    expect(page.get_by_label("State", exact=True)).to_have_value("GA")
    accessible(page)
    draft = ReviewRequest.objects.get()
    assert (draft.family, draft.eligibility["patient_age"]) == (family, 12)


def test_creating_an_account_from_the_result_opens_the_request_once_confirmed(
    live_server, page, published_service
):
    parent = "new.parent@example.org"
    page.set_viewport_size(PHONE)
    check_eligibility(page, live_server, published_service)

    page.locator("#start").locator("..").get_by_role("link", name="Create an account").click()
    page.get_by_label("Your full name").fill("Jordan Rivera")
    page.get_by_label("E-mail address").fill(parent)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("your request starts with the answers you gave")).to_be_visible()
    accessible(page)
    confirm = Message.objects.get(to=parent, template="verify_email")
    link = re.search(r"https?://\S+/confirm/\S+/", confirm.body).group(0)
    page.goto(link.replace("http://testserver", live_server.url))
    page.get_by_label("E-mail address").fill(parent)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="You", exact=True)).to_be_visible()
    expect(page.get_by_label("ZIP code")).to_have_value("31401")
    assert ReviewRequest.objects.get().family.email == parent
