"""WCAG 2.1 AA, measured with axe-core in Chromium: every family page, in English and in
Spanish, on a phone and on a desktop, with its error states; none may have a serious or
critical violation, and none may scroll sideways at 320 px (a phone, or 200 % zoom).

docs/accessibility.md lists the pages and what axe cannot check."""

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.accessibility import axe_violations, sideways_scroll
from tests.browser.session import signed_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"phone": {"width": 320, "height": 640}, "desktop": {"width": 1280, "height": 900}}


def set_language(page, live_server, language):
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    )


def check(page, found, where):
    for name, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        found += [f"{where} [{name}] {line}" for line in axe_violations(page)]
        if name == "phone" and (extra := sideways_scroll(page)):
            found.append(f"{where} [phone] scrolls sideways by {extra}px")


@pytest.mark.parametrize("language", ["en", "es"])
def test_pages_anyone_can_open_have_no_serious_violation(live_server, page, language, family_draft):
    set_language(page, live_server, language)
    service = family_draft.service
    found = []
    pages = [
        reverse("intake:catalogue"),
        reverse("intake:service_detail", args=[service.slug]),
        reverse("scheduling:start"),
        reverse("accounts:login"),
        reverse("accounts:sign_up"),
        reverse("accounts:password_reset"),
    ]
    for path in pages:
        page.goto(live_server.url + path)
        expect(page.locator("html")).to_have_attribute("lang", language)
        check(page, found, path)

    # Error states: eligibility answered "no", a sign-up sent empty.
    page.goto(live_server.url + reverse("intake:service_detail", args=[service.slug]))
    page.locator("[name=hospitalized][value=yes]").check()
    page.locator("form[novalidate] button[type=submit]").click()
    check(page, found, "eligibility refused")
    page.goto(live_server.url + reverse("accounts:sign_up"))
    page.locator("main form button[type=submit]").click()
    check(page, found, "sign-up sent empty")

    assert not found, "\n".join(found)


def family_signed_in(page, live_server, family, language):
    """The browser signed in as ``family``, whose pages are in ``language``."""
    signed_in(page, live_server, family)
    family.language = language
    family.save(update_fields=["language"])


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_family_s_pages_have_no_serious_violation(
    live_server, page, language, family, family_draft, family_request, tmp_path
):
    set_language(page, live_server, language)
    family_signed_in(page, live_server, family, language)
    found = []
    draft = family_draft.reference
    for path in [
        reverse("intake:my_requests"),
        reverse("intake:wizard_guardian", args=[draft]),
        reverse("intake:wizard_child", args=[draft]),
        reverse("intake:wizard_questionnaire", args=[draft]),
        reverse("intake:wizard_consent", args=[draft]),
        reverse("records:wizard_referral", args=[draft]),
        reverse("records:wizard_documents", args=[draft]),
        reverse("intake:wizard_review", args=[draft]),
        reverse("intake:request_detail", args=[family_request.reference]),
        reverse("scheduling:my_calls"),
    ]:
        page.goto(live_server.url + path)
        check(page, found, path)

    # A refused upload, explained on the page.
    fake = tmp_path / "report.pdf"
    fake.write_bytes(b"<html><script>alert(1)</script></html>")
    page.goto(live_server.url + reverse("records:wizard_documents", args=[draft]))
    page.locator("input[type=file]").set_input_files(str(fake))
    page.locator("form[data-upload] button[type=submit]").click()
    expect(page.locator("[data-upload-progress] [role=alert]")).to_be_visible()
    check(page, found, "refused upload")

    assert not found, "\n".join(found)


def test_the_check_fails_on_a_page_with_a_serious_violation(live_server, page):
    page.goto(live_server.url + reverse("intake:catalogue"))
    page.evaluate(
        """() => { const i = document.createElement("input"); i.type = "text";
                   document.querySelector("main").append(i);
                   document.body.style.color = "#bbb"; }"""
    )

    found = axe_violations(page)

    assert any(line.startswith("label (critical)") for line in found)


@pytest.mark.parametrize("language", ["en", "es"])
def test_booking_paying_and_links_have_no_serious_violation(
    live_server, page, language, neurology, family, family_draft, coordinator
):
    from billing.services import payment_record_phone
    from intake.lifecycle import Status
    from intake.links import invitation_url
    from intake.services import invitation_send, review_request_transition
    from tests.factories import review_request

    set_language(page, live_server, language)
    found = []

    # Booking: the times, the form sent with a wrong phone, the confirmation.
    page.goto(live_server.url + reverse("scheduling:slots", args=[neurology.slug]))
    check(page, found, "slots")
    page.locator("a[href*='/calls/neurology/book/']").first.click()
    check(page, found, "booking form")
    page.locator("[name=parent_name]").fill("Jordan Rivera")
    page.locator("[name=phone]").fill("12")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("[data-error-summary]")).to_be_focused()
    check(page, found, "booking form with errors")
    page.locator("[name=phone]").fill("404-555-0123")
    page.locator("[name=email]").fill("jordan@example.org")
    page.locator("[name=child_first_name]").fill("Alex")
    page.locator("[name=child_age]").fill("9")
    page.locator("[name=consent_to_contact]").check()
    page.locator("main form button[type=submit]").click()
    check(page, found, "call booked")

    # The status page waiting for payment, then paid with its receipt; the pediatrician's page.
    family_signed_in(page, live_server, family, language)
    waiting = review_request(family=family, status=Status.AWAITING_PAYMENT, actor=coordinator)
    page.goto(live_server.url + reverse("intake:request_detail", args=[waiting.reference]))
    check(page, found, "status: awaiting payment")
    payment_record_phone(
        review_request=waiting,
        amount_cents=waiting.fee_cents,
        reference="4242",
        note="",
        actor=coordinator,
    )
    page.goto(live_server.url + reverse("billing:receipt", args=[waiting.reference]))
    check(page, found, "receipt")
    asked = review_request(family=family, status=Status.AWAITING_PAYMENT, actor=coordinator)
    payment_record_phone(
        review_request=asked,
        amount_cents=asked.fee_cents,
        reference="4243",
        note="",
        actor=coordinator,
    )
    review_request_transition(
        review_request=asked,
        to_status=Status.NEEDS_INFO,
        actor=coordinator,
        note="Please send the MRI report.",
    )
    page.goto(live_server.url + reverse("intake:request_detail", args=[asked.reference]))
    check(page, found, "status: needs information")
    link = invitation_send(
        review_request=family_draft, kind="pediatrician", email="dr.lee@example.org", actor=family
    )
    page.context.clear_cookies()
    set_language(page, live_server, language)
    page.goto(invitation_url(link).replace("http://testserver", live_server.url))
    check(page, found, "pediatrician upload")

    assert not found, "\n".join(found)


@pytest.mark.parametrize("language", ["en", "es"])
def test_pages_opened_from_e_mails_and_after_delivery_have_no_serious_violation(
    live_server, page, language, neurology, family, family_draft, coordinator
):
    """The call's move, cancel and before-your-call pages, a second guardian's invitation,
    the page Stripe sends the family back to, and the status page of a delivered opinion with
    its follow-up form (and that form sent empty)."""
    from intake.lifecycle import Status
    from intake.links import invitation_url
    from intake.services import invitation_send
    from reviews import services as reviews
    from scheduling import services as scheduling
    from scheduling.links import booking_url
    from scheduling.slots import slots_open
    from tests.factories import review_request
    from tests.reviews.panel_setup import (
        case_in_review,
        deliver,
        pool_reviewer,
        sign,
        submit_opinions,
    )
    from tests.scheduling.conftest import DETAILS

    set_language(page, live_server, language)
    found = []

    def opened(url):
        return url.replace("http://testserver", live_server.url)

    # The call's pages, from the links in its e-mails.
    booking = scheduling.booking_create(
        department=neurology,
        starts_at=slots_open(department=neurology, now=timezone.now())[0].starts_at,
        details=DETAILS,
        family_time_zone="America/New_York",
        language=language,
    )
    for purpose in ("reschedule", "precall", "cancel"):
        assert page.goto(opened(booking_url(booking, purpose))).status == 200
        expect(page.locator("html")).to_have_attribute("lang", language)
        check(page, found, f"call: {purpose}")
    page.goto(opened(booking_url(booking, "precall")))
    page.evaluate("() => document.querySelectorAll('[required]').forEach(f => f.required = false)")
    page.locator("main form button[type=submit]").click()
    check(page, found, "call: before-your-call form sent")

    # A second guardian's invitation, opened signed out.
    link = invitation_send(
        review_request=family_draft, kind="guardian", email="casey@example.org", actor=family
    )
    assert page.goto(opened(invitation_url(link))).status == 200
    check(page, found, "second guardian's invitation")

    # Back from Stripe, before the webhook has said anything.
    family_signed_in(page, live_server, family, language)
    waiting = review_request(family=family, status=Status.AWAITING_PAYMENT, actor=coordinator)
    page.goto(live_server.url + reverse("billing:paid", args=[waiting.reference]))
    check(page, found, "back from Stripe")

    # A delivered opinion, with the follow-up question form, then that form sent empty.
    case = case_in_review(family=family, coordinator=coordinator, reviewers_required=1)
    lead = pool_reviewer(case.service, "Ana Lopez")
    reviews.panel_set(review_request=case, reviewers=[lead], lead=lead, actor=coordinator)
    submit_opinions(case, [lead])
    sign(case, lead)
    deliver(case, coordinator)
    page.goto(live_server.url + reverse("intake:request_detail", args=[case.reference]))
    expect(page.locator("textarea[name=question]")).to_be_visible()
    check(page, found, "status: delivered, with its follow-up form")
    page.evaluate("() => document.querySelectorAll('[required]').forEach(f => f.required = false)")
    page.locator("form:has(textarea[name=question]) button[type=submit]").click()
    expect(page.locator("[role=alert]").first).to_be_visible()
    check(page, found, "follow-up sent empty")

    assert not found, "\n".join(found)
