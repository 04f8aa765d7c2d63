"""A reviewer signs in with the second factor, steps through the previews of a DICOM study
sent on a CD and writes an opinion that is saved as they type, in headless Chromium."""

import re
from datetime import date
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from intake.lifecycle import Status
from intake.models import Child
from intake.services import review_request_transition
from records.models import AccessLog
from records.services import document_process, document_upload
from reviews.models import Opinion
from reviews.services import panel_set
from tests import samples
from tests.factories import PASSWORD, ReviewServiceFactory, review_request
from tests.helpers import totp_code
from tests.reviews.panel_setup import pool_reviewer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A CD's study: one CT image, then an MR series of two images.
STUDY = ("CT_small.dcm", "MR_small.dcm", "MR_small_RLE.dcm")
RECOMMENDATIONS = "Continue bracing; repeat the MR in 6 months."
PHONE_WIDTH = 390
FINDINGS = "Curve of 24 degrees on the CT; the MR shows no cord involvement."


@pytest.fixture
def case(family, coordinator):
    """A request in review with a DICOM study, read by a panel of one."""
    service = ReviewServiceFactory(name="Spine imaging review", reviewers_required=1)
    request = review_request(
        family=family, status=Status.SUBMITTED, service=service, actor=coordinator
    )
    Child.objects.create(
        request=request,
        first_name="Maya",
        last_name="Rivera",
        date_of_birth=date(2015, 3, 4),
        sex="female",
        prior_diagnosis="Scoliosis",
        questions="Does she need surgery?",
    )
    study = document_upload(
        review_request=request,
        kind="imaging",
        upload=samples.upload(samples.dicom_zip(*STUDY), "spine-study.zip"),
        actor=family,
        ip_address="203.0.113.7",
    ).document
    assert document_process(document_id=study.pk)  # as the worker does after the upload
    request = review_request_transition(
        review_request=request, to_status=Status.IN_REVIEW, actor=coordinator
    )
    reviewer = pool_reviewer(service, "Dr. Casey Morgan")
    panel_set(review_request=request, reviewers=[reviewer], lead=reviewer, actor=coordinator)
    return request, reviewer, study


def sign_in_with_code(page, base, user):
    page.goto(f"{base}/accounts/sign-in/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Enter your sign-in code")).to_be_visible()
    page.get_by_label("6-digit code").fill(totp_code(TOTPDevice.objects.get(user=user)))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="My reviews")).to_be_visible()


def preview_path(preview):
    return reverse("records:preview", args=[preview.pk])


def until(page, condition, timeout_ms=5000):
    """Let the browser's events run until ``condition()`` is true on the test's side."""
    for _ in range(timeout_ms // 50):
        if condition():
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"Still waiting after {timeout_ms} ms.")


class Stepper:
    """The case page's image stepper for one study."""

    def __init__(self, page, previews):
        self.page = page
        self.previews = previews
        self.figure = page.locator("[data-stepper]")
        self.image = self.figure.locator("[data-stepper-image]")
        self.counter = self.figure.locator("[data-stepper-counter]")

    def shows(self, index):
        """Preview ``index`` is on screen, loaded, with its place and label."""
        preview = self.previews[index]
        expect(self.counter).to_have_text(f"{index + 1} / {len(self.previews)}")
        expect(self.image).to_have_attribute(
            "src", re.compile(re.escape(preview_path(preview)) + "$")
        )
        expect(self.image).to_have_attribute("alt", preview.label)
        expect(self.figure.locator("[data-stepper-label]")).to_have_text(preview.label)
        self.page.wait_for_function(
            "image => image.complete && image.naturalWidth > 0", arg=self.image.element_handle()
        )


def test_a_reviewer_steps_through_the_study_and_submits_an_opinion(
    live_server, page, case, csp_violations
):
    request, reviewer, study = case
    previews = list(study.previews.order_by("series", "position"))
    fetched = []

    def note_preview(response):
        if "/files/previews/" in response.url:
            fetched.append((urlsplit(response.url).path, response.status))

    page.on("response", note_preview)

    sign_in_with_code(page, live_server.url, reviewer)
    page.get_by_role("link", name=request.reference).click()

    # The study's details, read from the DICOM headers when it was processed.
    expect(page.get_by_role("heading", name="spine-study.zip")).to_be_visible()
    details = page.locator("article", has_text="spine-study.zip").locator("dl")
    expect(details).to_contain_text("CT")
    expect(details).to_contain_text("GE MEDICAL SYSTEMS")
    expect(details).to_contain_text("2 · 3 images")

    # One preview at a time: the buttons, then the arrow keys; the ends hold.
    stepper = Stepper(page, previews)
    stepper.shows(0)
    page.get_by_role("button", name="Previous image").click()
    stepper.shows(0)
    page.get_by_role("button", name="Next image").click()
    stepper.shows(1)
    page.get_by_role("button", name="Next image").click()
    stepper.shows(2)
    page.get_by_role("button", name="Next image").click()
    stepper.shows(2)
    stepper.figure.focus()
    for key, index in (("ArrowLeft", 1), ("ArrowLeft", 0), ("ArrowLeft", 0), ("ArrowDown", 1)):
        page.keyboard.press(key)
        stepper.shows(index)

    # The case opened, and every image shown, fetched through the logged door: one line each.
    assert AccessLog.objects.filter(
        action=AccessLog.Action.VIEW, user=reviewer, request=request, document_id=None
    ).exists()
    shown = [0, 1, 2, 1, 0, 1]
    assert fetched == [(preview_path(previews[index]), 200) for index in shown]
    logged = AccessLog.objects.filter(action=AccessLog.Action.PREVIEW)
    assert logged.count() == len(shown)
    assert set(logged.values_list("user", "role", "request", "document_id", "outcome")) == {
        (reviewer.pk, "reviewer", request.pk, study.pk, AccessLog.Outcome.ALLOWED)
    }

    # The draft is kept on the server as the reviewer types.
    page.get_by_role("link", name="Write my opinion").click()
    expect(page.get_by_role("heading", name="My opinion")).to_be_visible()
    page.get_by_label("Findings").fill(FINDINGS)
    status = page.locator("[data-autosave-status]")
    expect(status).to_have_text(re.compile(r"^Draft saved at \d\d:\d\d:\d\d\.$"))
    assert page.evaluate("() => window.sessionStorage.length") == 0  # nothing left unsent
    draft = Opinion.objects.get(assignment__reviewer=reviewer)
    assert (draft.findings, draft.submitted_at) == (FINDINGS, None)

    reloaded = page.reload()
    assert FINDINGS in reloaded.text()  # drawn by the server, not kept by the browser
    expect(page.get_by_label("Findings")).to_have_value(FINDINGS)
    expect(status).to_have_text(re.compile(r"^Draft saved "))

    page.get_by_role("group", name="Do you agree with the prior diagnosis?").get_by_label(
        "Yes"
    ).check()
    page.get_by_role("group", name="Do you agree with the care plan?").get_by_label(
        "Partly"
    ).check()
    page.get_by_label("Recommendations").fill(RECOMMENDATIONS)
    page.get_by_label("Answers to the family's questions").fill("Not now; bracing first.")
    page.get_by_label("Continue the current care plan").check()
    page.get_by_role("button", name="Submit my opinion").click()

    expect(page.get_by_text("Your opinion is submitted.")).to_be_visible()
    expect(page.get_by_text("Submitted", exact=True)).to_be_visible()
    expect(page.get_by_text(RECOMMENDATIONS)).to_be_visible()
    opinion = Opinion.objects.get(assignment__reviewer=reviewer)
    assert opinion.pk == draft.pk  # the draft itself became the opinion
    assert opinion.submitted_at is not None
    assert (opinion.agrees_with_diagnosis, opinion.agrees_with_plan) == ("yes", "partly")
    assert (opinion.findings, opinion.recommendations) == (FINDINGS, RECOMMENDATIONS)
    assert opinion.next_steps == ["continue_care"]
    assert csp_violations == []


@pytest.mark.browser_context_args(
    viewport={"width": PHONE_WIDTH, "height": 844}, is_mobile=True, has_touch=True
)
def test_the_stepper_fits_a_phone(live_server, page, case, csp_violations):
    request, reviewer, study = case
    previews = list(study.previews.order_by("series", "position"))
    sign_in_with_code(page, live_server.url, reviewer)

    page.goto(f"{live_server.url}{reverse('reviews:case', args=[request.reference])}")

    stepper = Stepper(page, previews)
    for name in ("Previous image", "Next image"):
        button = page.get_by_role("button", name=name)
        button.scroll_into_view_if_needed()
        expect(button).to_be_in_viewport()
        box = button.bounding_box()
        assert box["x"] >= 0, name
        assert box["x"] + box["width"] <= PHONE_WIDTH, name
    image_box = stepper.image.bounding_box()
    assert image_box["width"] <= PHONE_WIDTH
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE_WIDTH
    page.get_by_role("button", name="Next image").tap()
    stepper.shows(1)
    assert csp_violations == []


def test_what_is_typed_while_a_save_is_on_its_way_survives_a_dropped_connection(
    live_server, page, context, case
):
    request, reviewer, _ = case
    autosaves, held = [], []

    def autosave(route):  # the network between the tab and the portal
        autosaves.append(route.request)
        if len(autosaves) == 1:
            held.append(route)  # the first save is still on its way...
        elif len(autosaves) == 2:
            route.abort("internetdisconnected")  # ...and the connection drops for the next
        else:
            route.continue_()

    page.route("**/opinion/autosave/", autosave)
    sign_in_with_code(page, live_server.url, reviewer)
    page.goto(f"{live_server.url}{reverse('reviews:opinion', args=[request.reference])}")
    findings = page.get_by_label("Findings")
    status = page.locator("[data-autosave-status]")

    findings.fill("Curve of 24 degrees.")
    until(page, lambda: held)
    findings.fill(FINDINGS)
    with page.expect_response("**/opinion/autosave/"):
        held[0].continue_()
    expect(status).to_have_text(re.compile(r"^Not saved yet: no connection"))
    assert FINDINGS in page.evaluate("() => JSON.stringify(window.sessionStorage)")
    assert Opinion.objects.get(assignment__reviewer=reviewer).findings == "Curve of 24 degrees."

    context.set_offline(True)
    context.set_offline(False)  # the browser says "online": the script sends what it kept

    expect(status).to_have_text(re.compile(r"^Draft saved at "))
    assert Opinion.objects.get(assignment__reviewer=reviewer).findings == FINDINGS
