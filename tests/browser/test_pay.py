"""The Pay button in a real browser: the form's answer is a redirect to Stripe's payment page,
which the browser follows only if the Content-Security-Policy's form-action allows it (an
HTTP client never checks). Stripe's page itself is answered by the test, off the network."""

import re

import pytest
from playwright.sync_api import expect

from billing.models import Payment
from intake.lifecycle import Status
from tests.browser.session import signed_in
from tests.factories import review_request

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STRIPE_PAGE = "https://checkout.stripe.com/"


def test_the_pay_button_takes_the_family_to_stripes_page(
    live_server, page, family, standin, csp_violations
):
    awaiting = review_request(family=family, status=Status.AWAITING_PAYMENT)
    reached = []

    def stripe_page(route):
        reached.append(route.request.url)
        route.fulfill(content_type="text/html", body="<title>Stripe Checkout</title><h1>Pay</h1>")

    page.route(f"{STRIPE_PAGE}**", stripe_page)
    signed_in(page, live_server, family)
    page.goto(f"{live_server.url}/requests/{awaiting.reference}/")

    page.get_by_role("button", name=re.compile(r"^Pay .* now$")).click()

    expect(page).to_have_title("Stripe Checkout")
    payment = Payment.objects.get(request=awaiting)
    assert reached == [payment.checkout_url]
    assert payment.checkout_url.startswith(f"{STRIPE_PAGE}c/pay/")
    assert csp_violations == []
