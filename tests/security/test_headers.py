"""Every response carries the headers the settings promise (docs/security.md, "Headers"):
every page of the portal and the admin as the person who uses it, the error pages (400,
403 for a refused form, 404, 410, 500), the file door, JSON answers and calendar files.
Under production settings, HSTS and secure cookies too."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from tests.config.test_settings import GOOD_PRODUCTION, start
from tests.conftest import sign_in
from tests.security.conftest import enter, finished
from tests.security.probe import all_probes

pytestmark = pytest.mark.django_db

PROBES = all_probes()
# Public pages that show nothing about anyone: a browser or proxy may keep a copy.
CACHEABLE = {"intake:catalogue", "intake:service_detail", "scheduling:start", "scheduling:slots"}


def missing_headers(response, *, may_be_cached=False) -> list[str]:
    """The promised headers this response lacks."""
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.get("Content-Security-Policy", "").split(";")
        if " " in directive.strip()
    )
    expected = {
        "Content-Security-Policy frame-ancestors": policy.get("frame-ancestors") == "'none'",
        "Content-Security-Policy script-src": policy.get("script-src") == "'self'",
        "X-Content-Type-Options": response.get("X-Content-Type-Options") == "nosniff",
        "Referrer-Policy": response.get("Referrer-Policy") == "no-referrer",
        "X-Frame-Options": response.get("X-Frame-Options") == "DENY",
        "Cross-Origin-Opener-Policy": response.get("Cross-Origin-Opener-Policy") == "same-origin",
    }
    if not may_be_cached:
        cache_control = {part.strip() for part in response.get("Cache-Control", "").split(",")}
        expected["Cache-Control: no-store"] = "no-store" in cache_control
    return [name for name, present in expected.items() if not present]


def test_every_page_carries_the_security_headers(request, world):
    """Each page as the person who uses it (the persona of its probe): anything shown to a
    signed-in person, or reached by an e-mailed link, may hold patient data and is never
    stored; only the public pages of CACHEABLE may be."""
    lacking = {}

    for key, probe in PROBES.items():
        client = Client(raise_request_exception=False)
        user = request.getfixturevalue(probe.reach)
        enter(client, probe.reach, user)
        method = client.get if "GET" in probe.methods else client.post
        response = finished(method(probe.build(world)))
        may_be_cached = key in CACHEABLE and user is None
        if missing := missing_headers(response, may_be_cached=may_be_cached):
            lacking[key] = (response.status_code, missing)

    assert lacking == {}


def test_the_call_booked_in_this_browser_is_never_stored(client, world):
    from scheduling.views import BOOKED_SESSION_KEY

    session = client.session
    session[BOOKED_SESSION_KEY] = str(world.booking.public_id)
    session.save()

    for name in ("scheduling:booked", "scheduling:booked_invite"):
        response = client.get(reverse(name))

        assert response.status_code == 200
        assert missing_headers(response) == [], name


def test_error_pages_carry_the_security_headers(client, family, monkeypatch):
    def broken():
        raise RuntimeError("the front page's query failed")

    monkeypatch.setattr("intake.views.catalogue_departments", broken)
    anonymous = Client(raise_request_exception=False)
    signed_in = sign_in(Client(raise_request_exception=False), family)
    refusing = Client(enforce_csrf_checks=True)

    responses = {
        400: anonymous.get("/requests/SO-%00/"),
        403: refusing.post(reverse("accounts:login"), {"username": "a@example.org"}),
        404: anonymous.get("/no-such-page/"),
        "404 signed in": signed_in.get("/no-such-page/"),
        410: anonymous.get(reverse("scheduling:cancel", args=[_expired_call_token()])),
        500: anonymous.get(reverse("intake:catalogue")),
    }

    assert {name: r.status_code for name, r in responses.items()} == {
        400: 400,
        403: 403,
        404: 404,
        "404 signed in": 404,
        410: 410,
        500: 500,
    }
    assert {name: missing_headers(r) for name, r in responses.items()} == {
        name: [] for name in responses
    }


def test_json_answers_carry_the_security_headers(world, family, assigned_reviewer):
    upload = reverse("records:upload", args=[world.draft.reference])
    autosave = reverse("reviews:autosave", args=[world.request.reference])

    answers = {
        "upload": sign_in(Client(), family).post(upload, HTTP_ACCEPT="application/json"),
        "autosave": sign_in(Client(), assigned_reviewer).post(autosave, {"findings": "Seen."}),
    }

    assert {name: r["Content-Type"] for name, r in answers.items()} == {
        "upload": "application/json",
        "autosave": "application/json",
    }
    assert {name: missing_headers(r) for name, r in answers.items()} == {
        "upload": [],
        "autosave": [],
    }


def _expired_call_token() -> str:
    """A cancel link made longer ago than links last (for a call that no longer matters)."""
    import time_machine
    from django.conf import settings
    from django.core import signing
    from django.utils import timezone

    with time_machine.travel(timezone.now() - timedelta(days=settings.SCHEDULING_LINK_DAYS + 1)):
        return signing.dumps(
            "00000000-0000-0000-0000-000000000000", salt="scheduling.booking.cancel"
        )


PRODUCTION_REQUESTS = """
import json
import django
django.setup()
from django.test import Client, override_settings

host = {"HTTP_HOST": "second-opinions.example.org"}
# Static files are collected at build time; here the plain storage stands in for the manifest.
with override_settings(
    STORAGES={"staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
):
    client = Client()
    plain = client.get("/accounts/sign-in/", **host)
    secure = client.get("/accounts/sign-in/", secure=True, **host)
    proxied = client.get("/accounts/sign-in/", HTTP_X_FORWARDED_PROTO="https", **host)
cookie = secure.cookies["csrftoken"]
print(json.dumps({
    "plain": [plain.status_code, plain.get("Location")],
    "hsts": secure.get("Strict-Transport-Security"),
    "proxied_hsts": proxied.get("Strict-Transport-Security"),
    "csrf_cookie": {"secure": cookie["secure"], "httponly": cookie["httponly"]},
    "session_cookie": [django.conf.settings.SESSION_COOKIE_SECURE,
                       django.conf.settings.SESSION_COOKIE_HTTPONLY],
}))
"""


def test_production_answers_over_https_only_with_hsts_and_secure_cookies():
    result = start(GOOD_PRODUCTION, PRODUCTION_REQUESTS)
    assert result.returncode == 0, result.stderr

    answers = json.loads(result.stdout.strip().splitlines()[-1])

    assert answers["plain"] == [301, "https://second-opinions.example.org/accounts/sign-in/"]
    assert answers["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert answers["proxied_hsts"] == answers["hsts"]  # behind the TLS proxy
    assert answers["csrf_cookie"] == {"secure": True, "httponly": True}
    assert answers["session_cookie"] == [True, True]
