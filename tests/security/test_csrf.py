"""Every page that takes a POST refuses one without a valid CSRF token (403, the portal's
page saying the form could not be sent), the JSON upload called from another site too. The
Stripe webhook is the only exempt view, and it verifies Stripe's signature instead."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, get_resolver, reverse

from tests.security.conftest import enter, finished
from tests.security.probe import all_probes

pytestmark = pytest.mark.django_db

PROBES = all_probes()
EXEMPT = {"billing:stripe_webhook"}
REFUSED = "This form could not be sent"


def _callbacks(resolver=None, namespace=""):
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLPattern):
            yield (f"{namespace}:{pattern.name}" if namespace else pattern.name), pattern.callback
        else:
            inner = ":".join(filter(None, [namespace, pattern.namespace or ""]))
            yield from _callbacks(pattern, inner)


def test_the_stripe_webhook_is_the_only_view_exempt_from_csrf():
    exempt = {name for name, view in _callbacks() if getattr(view, "csrf_exempt", False)}

    assert exempt == EXEMPT


COOKIE_SECRET = "a" * 32  # the form Django's CSRF cookie takes


def _browser(request, persona) -> Client:
    """A client that checks CSRF as a real browser meets it, holding a CSRF cookie (so only
    the token of the form is missing or wrong)."""
    client = Client(enforce_csrf_checks=True)
    enter(client, persona, request.getfixturevalue(persona))
    client.cookies[settings.CSRF_COOKIE_NAME] = COOKIE_SECRET
    return client


@pytest.mark.parametrize(
    "key",
    sorted(key for key, probe in PROBES.items() if "POST" in probe.methods and key not in EXEMPT),
)
def test_a_post_without_a_valid_token_is_refused(request, world, key):
    probe = PROBES[key]
    url = probe.build(world)
    client = _browser(request, probe.reach)
    wrong = {}

    for name, data in {
        "no token": {"next": "/"},
        "wrong token": {"csrfmiddlewaretoken": "b" * 32, "next": "/"},
    }.items():
        response = finished(client.post(url, data))
        if response.status_code != 403 or REFUSED not in response.content.decode():
            wrong[name] = response.status_code

    assert wrong == {}


@pytest.fixture
def uploading_family(request, world):
    client = _browser(request, "family")
    return (
        client,
        client.cookies["csrftoken"].value,
        reverse("records:upload", args=[world.draft.reference]),
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_ORIGIN": "https://evil.example"},
        {"HTTP_ORIGIN": "null", "HTTP_SEC_FETCH_SITE": "cross-site"},
        {"HTTP_ORIGIN": "http://testserver.evil.example"},
    ],
    ids=["another site", "a sandboxed page", "a look-alike host"],
)
def test_the_json_upload_called_from_another_site_is_refused(uploading_family, world, headers):
    from tests import samples

    client, token, url = uploading_family

    response = client.post(
        url,
        {"kind": "record", "file": samples.upload(samples.pdf(), "notes.pdf")},
        HTTP_ACCEPT="application/json",
        HTTP_X_CSRFTOKEN=token,
        **headers,
    )

    assert response.status_code == 403
    assert world.draft.documents.count() == 0


def test_the_json_upload_from_the_portals_own_page_is_accepted(uploading_family, world):
    from tests import samples

    client, token, url = uploading_family

    response = client.post(
        url,
        {"kind": "record", "file": samples.upload(samples.pdf(), "notes.pdf")},
        HTTP_ACCEPT="application/json",
        HTTP_X_CSRFTOKEN=token,
        HTTP_ORIGIN="http://testserver",
    )

    assert response.status_code == 201
    assert world.draft.documents.count() == 1


def test_the_exempt_stripe_webhook_refuses_an_unsigned_event(client, settings):
    from billing.models import WebhookAttempt

    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_secret"

    response = client.post(
        reverse("billing:stripe_webhook"),
        b'{"id": "evt_1", "type": "checkout.session.completed"}',
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE="t=1,v1=forged",
    )

    assert response.status_code == 400
    assert WebhookAttempt.objects.get().outcome == WebhookAttempt.Outcome.REJECTED
