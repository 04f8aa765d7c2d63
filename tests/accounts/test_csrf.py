"""Form posts under Referrer-Policy: no-referrer, where browsers send "Origin: null"."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser():
    """A client that enforces CSRF like a real browser session would meet it."""
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("accounts:login"))
    return client


def post_sign_in(client, family, *, token=True, secure=False, **headers):
    data = {"username": family.email, "password": PASSWORD}
    if token:
        data["csrfmiddlewaretoken"] = client.cookies["csrftoken"].value
    return client.post(reverse("accounts:login"), data, secure=secure, **headers)


def test_the_portals_own_form_with_a_null_origin_and_same_origin_metadata_is_accepted(
    browser, family
):
    response = post_sign_in(browser, family, HTTP_ORIGIN="null", HTTP_SEC_FETCH_SITE="same-origin")

    assert response.status_code == 302


def test_over_https_no_referer_is_needed_for_such_a_post(browser, family, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False

    response = post_sign_in(
        browser, family, secure=True, HTTP_ORIGIN="null", HTTP_SEC_FETCH_SITE="same-origin"
    )

    assert response.status_code == 302


@pytest.mark.parametrize("fetch_site", ["cross-site", "same-site", "none", None])
def test_a_null_origin_from_anywhere_else_is_refused(browser, family, fetch_site):
    headers = {"HTTP_ORIGIN": "null"}
    if fetch_site:
        headers["HTTP_SEC_FETCH_SITE"] = fetch_site

    response = post_sign_in(browser, family, **headers)

    assert response.status_code == 403


def test_the_token_is_still_required(browser, family):
    response = post_sign_in(
        browser, family, token=False, HTTP_ORIGIN="null", HTTP_SEC_FETCH_SITE="same-origin"
    )

    assert response.status_code == 403


def test_another_sites_origin_is_refused_whatever_the_metadata_says(browser, family):
    response = post_sign_in(
        browser, family, HTTP_ORIGIN="https://evil.example", HTTP_SEC_FETCH_SITE="same-origin"
    )

    assert response.status_code == 403
