"""Every URL pattern, tried by the people who must not get through it.

Someone else's object answers 404 (never 403, which would say it exists, never 200, never
500); an anonymous visitor is sent to sign in; a tampered link is a 404 and an expired one a
410; staff whose role allows nothing in the admin are refused (403) and everyone else who is
not staff gets a 404. ``tests/test_permissions.py`` holds the full persona matrix of the
portal's pages; this probe adds the admin's pages, the people the matrix leaves out (a
removed second guardian, a reviewer taken off the panel, staff without permissions), both
methods of every page, and addresses whose ids are not ids.
"""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.conftest import sign_in
from tests.security.conftest import finished
from tests.security.probe import (
    ADMIN,
    FAMILY,
    IMAGING,
    PANEL,
    SIGNED_IN,
    TOKEN,
    all_probes,
    url_patterns,
)

pytestmark = pytest.mark.django_db

PROBES = all_probes()
LOGIN = reverse("accounts:login")

# Who must not reach an object of the family, or a case of its panel.
FAMILY_OUTSIDERS = ("other_family", "removed_guardian", "unassigned_reviewer", "removed_reviewer")
PANEL_OUTSIDERS = (*FAMILY_OUTSIDERS, "family", "coordinator")
OUTSIDERS = {
    FAMILY: FAMILY_OUTSIDERS,
    PANEL: PANEL_OUTSIDERS,
    IMAGING: (*FAMILY_OUTSIDERS, "family"),  # coordinators open a study too
}
# Signed in, but not staff: every admin page is a 404 for them.
ADMIN_OUTSIDERS = ("family", "removed_guardian", "assigned_reviewer", "unassigned_reviewer")
# Admin pages any member of staff may open, whatever their role allows.
ANY_STAFF = {
    "admin:index",  # says "nothing you can change"
    "admin:login",  # signed in: a 404 (see PortalAdminSite.login)
    "admin:logout",
    "admin:password_change",
    "admin:password_change_done",
    "admin:jsi18n",
    "admin/(?P<url>.*)$",  # the admin's own 404
}


def test_every_url_pattern_has_a_probe():
    patterns = {key for key, _ in url_patterns()}

    assert patterns - set(PROBES) == set(), "add the new pattern to tests/security/probe.py"
    assert set(PROBES) - patterns == set(), "a probe names a pattern that no longer exists"


def _send(client, method, url):
    return finished(client.post(url) if method == "POST" else client.get(url))


def _refused_as_missing(response, method, probe) -> bool:
    if response.status_code == 405:  # a POST-only page, whatever the object
        return method == "GET" and probe.methods == ("POST",)
    return response.status_code == 404


def _keys(*kinds):
    return sorted(key for key, probe in PROBES.items() if probe.kind in kinds)


@pytest.mark.parametrize("key", _keys(FAMILY, PANEL, IMAGING))
def test_someone_elses_object_is_not_found(request, world, key):
    probe = PROBES[key]
    url = probe.build(world)
    outsiders = OUTSIDERS[probe.kind]
    wrong = []

    for persona in outsiders:
        client = sign_in(Client(), request.getfixturevalue(persona))
        for method in ("GET", "POST"):
            response = _send(client, method, url)
            if not _refused_as_missing(response, method, probe):
                wrong.append((persona, method, response.status_code))

    assert wrong == []


def _sent_to_sign_in(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(LOGIN)


@pytest.mark.parametrize(
    "key",
    # An image of an opened series is fetched by the viewer's script with the key it was
    # given: without the session that opened it, it is a 404 (test_someone_elses_...).
    sorted(
        set(_keys(FAMILY, PANEL, IMAGING, SIGNED_IN, ADMIN))
        - {"accounts:logout", "records:series_image"}
    ),
)
def test_an_anonymous_visitor_is_sent_to_sign_in(client, world, key):
    probe = PROBES[key]
    url = probe.build(world)
    wrong = []

    for method in ("GET", "POST"):
        response = _send(client, method, url)
        expected = _sent_to_sign_in(response) or (
            response.status_code == 405 and method not in probe.methods
        )
        if not expected:
            wrong.append((method, response.status_code, response.get("Location")))

    assert wrong == [], url


# --- Signed links -----------------------------------------------------------------------------


def _tampered(url: str) -> str:
    """The link with one character of its signature changed."""
    prefix, token = url.rstrip("/").rsplit("/", 1)
    token = token[:-1] + ("A" if token[-1] != "A" else "B")
    return f"{prefix}/{token}/"


def _expire(world, key):
    """Make the link of ``key`` (already built) one that has expired."""
    from intake.models import Invitation

    link = {
        "intake:invitation": world.guardian_link,
        "records:pediatrician_upload": world.pediatrician_link,
    }[key]
    Invitation.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(days=1))


def _other_purpose(world, key) -> str:
    """A genuine link of another page put in this page's address."""
    others = {
        "intake:invitation": PROBES["records:pediatrician_upload"],
        "records:pediatrician_upload": PROBES["intake:invitation"],
        "scheduling:reschedule": PROBES["scheduling:cancel"],
        "scheduling:cancel": PROBES["scheduling:precall"],
        "scheduling:precall": PROBES["scheduling:reschedule"],
        "accounts:verify_email": PROBES["scheduling:cancel"],
    }
    token = others[key].build(world).rstrip("/").rsplit("/", 1)[1]
    prefix = PROBES[key].build(world).rstrip("/").rsplit("/", 1)[0]
    return f"{prefix}/{token}/"


LINKS = (
    "intake:invitation",
    "records:pediatrician_upload",
    "scheduling:reschedule",
    "scheduling:cancel",
    "scheduling:precall",
    "accounts:verify_email",
)


def test_every_link_page_is_probed():
    assert {key for key, probe in PROBES.items() if probe.kind == TOKEN} == {
        *LINKS,
        "accounts:password_reset_confirm",  # Django's own page: tests/accounts
    }


@pytest.mark.parametrize("key", LINKS)
@pytest.mark.parametrize("persona", ["anonymous", "other_family", "coordinator"])
def test_a_tampered_or_borrowed_link_is_not_found(request, world, key, persona):
    client = sign_in(Client(), request.getfixturevalue(persona))
    urls = {"tampered": _tampered(PROBES[key].build(world)), "borrowed": _other_purpose(world, key)}
    wrong = {}

    for name, url in urls.items():
        for method in ("GET", "POST"):
            response = _send(client, method, url)
            if response.status_code != 404:
                wrong[(name, method)] = response.status_code

    assert wrong == {}


@pytest.mark.parametrize("key", LINKS)
def test_an_expired_link_says_so_and_opens_nothing(client, world, key):
    import time_machine
    from django.conf import settings

    url = PROBES[key].build(world)
    later = timezone.now()
    if key.startswith("scheduling:"):
        later += timedelta(days=settings.SCHEDULING_LINK_DAYS + 1)
    elif key == "accounts:verify_email":
        later += timedelta(seconds=settings.EMAIL_VERIFICATION_TIMEOUT + 1)
    else:
        _expire(world, key)
    wrong = {}

    with time_machine.travel(later):
        for method in ("GET", "POST"):
            response = _send(client, method, url)
            if response.status_code != 410:
                wrong[method] = response.status_code

    assert wrong == {}


# --- The admin ----------------------------------------------------------------------------------


def _bare_staff_refused(key, url, response) -> bool:
    """403, or 404 where the admin says there is nothing (an app or object link with nothing
    the person may see). The old address of a change page only forwards to it (which refuses);
    Django's history page says "no such object" before it checks permissions, so a history of
    an object that does not exist answers with that redirect."""
    if key.endswith("<path:object_id>/"):
        return response.status_code == 302 and response["Location"].endswith("/change/")
    if key.endswith("_history") and "/0/" in url:
        return response.status_code == 302
    return response.status_code in (403, 404)


@pytest.mark.parametrize("key", _keys(ADMIN))
def test_the_admin_refuses_everyone_it_does_not_allow(request, world, bare_staff, key):
    """Signed in but not staff: 404 (as for a page that is not theirs). Staff whose role
    allows nothing: refused on every page but the few any member of staff has."""
    probe = PROBES[key]
    url = probe.build(world)
    wrong = []

    for persona in ADMIN_OUTSIDERS:
        client = sign_in(Client(), request.getfixturevalue(persona))
        for method in ("GET", "POST"):
            response = _send(client, method, url)
            if response.status_code != 404:
                wrong.append((persona, method, response.status_code))
    if key not in ANY_STAFF:
        client = sign_in(Client(), bare_staff)
        for method in probe.methods:
            response = _send(client, method, url)
            if not _bare_staff_refused(key, url, response):
                wrong.append(("bare_staff", method, response.status_code))

    assert wrong == []


def test_a_coordinator_cannot_refund_without_the_permission(client, coordinator, world):
    url = PROBES["admin:billing_payment_refund"].build(world)
    sign_in(client, coordinator)

    responses = [client.get(url), client.post(url, {"amount": "1.00", "reason": "Goodwill"})]

    assert [response.status_code for response in responses] == [403, 403]
    assert not world.request.payments.get().refunds.exists()
