"""A parent and a coordinator sign in as people do, in headless Chromium."""

import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from intake.lifecycle import Status
from tests.factories import PASSWORD, DepartmentFactory, ReviewServiceFactory, review_request
from tests.helpers import totp_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, base, email):
    page.goto(f"{base}/accounts/sign-in/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_parent_on_a_phone_signs_in_and_reads_the_status_of_a_request(
    live_server, page, family, csp_violations
):
    service = ReviewServiceFactory(
        department=DepartmentFactory(name="Orthopedics"), name="Spine document review"
    )
    request = review_request(family=family, service=service, status=Status.SUBMITTED)
    page.set_viewport_size({"width": 390, "height": 844})

    sign_in(page, live_server.url, family.email)
    expect(page.get_by_role("heading", name="My requests")).to_be_visible()
    page.get_by_role("link", name=re.compile("Spine document review")).click()

    expect(page.get_by_text(f"Reference {request.reference}")).to_be_visible()
    expect(page.get_by_text("The review clock is running.")).to_be_visible()
    page.get_by_role("button", name="Menu").click()  # Bootstrap's script works under the CSP
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert csp_violations == []


def test_a_coordinator_needs_the_code_then_asks_the_family_for_information(
    live_server, page, coordinator, family, csp_violations
):
    request = review_request(family=family, status=Status.SUBMITTED)

    sign_in(page, live_server.url, coordinator.email)
    expect(page.get_by_role("heading", name="Enter your sign-in code")).to_be_visible()
    page.get_by_label("6-digit code").fill(totp_code(TOTPDevice.objects.get(user=coordinator)))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Coordinator workspace")).to_be_visible()
    page.goto(f"{live_server.url}/admin/intake/reviewrequest/{request.pk}/change/")
    page.get_by_role("link", name="Move to…").click()
    page.get_by_label("Needs information").check()
    page.get_by_label("Note").fill("Please send the MRI report.")
    page.get_by_role("button", name="Move").click()

    expect(page.get_by_text(f"{request.reference} moved.")).to_be_visible()
    request.refresh_from_db()
    assert request.status == Status.NEEDS_INFO
    assert csp_violations == []


def test_the_admins_login_address_leads_to_the_portal_sign_in(live_server, page):
    page.goto(f"{live_server.url}/admin/")

    expect(page).to_have_url(re.compile(r"/accounts/sign-in/\?next=/admin/$"))
