"""No redirect-back parameter leads off the site, or to a server error.

Every ``next`` the portal honours (sign-in, sign-out, the second factor, the pages of the
wizard and the status page that send a form back where it came from, the admin's sign-in
that forwards to the portal's) is given addresses of another site in the forms browsers
accept: the answer goes to a page of this site instead.
"""

from itertools import count
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import sign_in
from tests.factories import PASSWORD
from tests.helpers import totp_code

pytestmark = pytest.mark.django_db

ELSEWHERE = (
    "//evil.example",
    "///evil.example",
    "https://evil.example/",
    "http://evil.example",
    "HTTPS://EVIL.EXAMPLE",
    "https:evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "%2F%2Fevil.example",
    "/%2F%2Fevil.example",
    "/\t/evil.example",
    "/\r\n/evil.example",
    "\r\nLocation: https://evil.example",
    " //evil.example",
    "\x01//evil.example",
    "//testserver@evil.example",
    "//evil.example@testserver",
    "http://testserver.evil.example/",
    "https://testserver:443@evil.example/",
    # Not addresses at all: ``redirect`` takes a bare word for the name of a view.
    "evil.example",
    "a b",
    "2026-02-30",
    "admin:index",
)
NUMBERS = count()


def lands_on_this_site(location: str) -> bool:
    """Where a browser goes with this Location: it drops tabs and line breaks, trims control
    characters and spaces, reads backslashes as slashes, and takes what follows two or more
    slashes (after the scheme, or at the start) as the host."""
    if "\r" in location or "\n" in location:
        return False  # a header that was split
    url = location.strip("".join(map(chr, range(33))))
    url = url.replace("\t", "").replace("\\", "/")
    scheme, colon, rest = url.partition(":")
    if not colon or "/" in scheme:
        scheme, rest = "", url
    if scheme and scheme.lower() not in ("http", "https"):
        return False
    if scheme or rest.startswith("//"):
        host = rest.lstrip("/").split("/")[0].rsplit("@", 1)[-1]
        return host == "testserver"
    return True


def test_the_check_itself_tells_this_site_from_another():
    assert lands_on_this_site("/requests/SO-AAAA-BBBB/")
    assert lands_on_this_site("http://testserver/accounts/")
    # Browsers do not decode %2F before finding the host, "someone@" before this site's name
    # is only a user name, and a bare word is a path next to the current page: these stay
    # here as they are.
    staying = {
        "%2F%2Fevil.example",
        "/%2F%2Fevil.example",
        "//evil.example@testserver",
        "evil.example",
        "a b",
        "2026-02-30",
    }
    assert {url for url in ELSEWHERE if lands_on_this_site(url)} == staying


def _sign_in_post(client, world, next_url):
    return client.post(
        reverse("accounts:login"),
        {"username": world.request.family.email, "password": PASSWORD, "next": next_url},
    )


def _signed_in_sign_in_page(client, world, next_url):
    sign_in(client, world.request.family)
    return client.get(reverse("accounts:login"), {"next": next_url})


def _sign_out(client, world, next_url):
    sign_in(client, world.request.family)
    return client.post(reverse("accounts:logout"), {"next": next_url})


def _staff():
    from accounts.models import Role
    from tests.factories import staff_user

    return staff_user(Role.COORDINATOR, email=f"staff{next(NUMBERS)}@example.org")


def _code(client, world, next_url):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    staff = _staff()
    client.force_login(staff)
    code = totp_code(TOTPDevice.objects.get(user=staff))
    return client.post(reverse("accounts:otp_verify"), {"token": code, "next": next_url})


def _code_already_given(view):
    def send(client, world, next_url):
        sign_in(client, _staff())
        return client.get(reverse(view), {"next": next_url})

    return send


def _back_from(view, *args):
    """A form of the wizard or the status page, posted with ``next``."""

    def send(client, world, next_url):
        from intake.models import Invitation, SharedAccess

        # Each try finds the link open and the guardian on the request again.
        Invitation.objects.filter(pk=world.guardian_link.pk).update(revoked_at=None)
        SharedAccess.objects.filter(pk=world.access.pk).update(removed_at=None)
        sign_in(client, world.request.family)
        url = reverse(view, args=[arg(world) for arg in args])
        return client.post(url, {"next": next_url, "pediatrician-email": "dr.lee@example.org"})

    return send


def _admin_sign_in(client, world, next_url):
    """The admin's sign-in forwards to the portal's, carrying ``next``; signing in there
    must still land on this site."""
    forwarded = client.get(reverse("admin:login"), {"next": next_url})
    assert urlsplit(forwarded["Location"]).path == reverse("accounts:login")
    return _sign_in_post(client, world, dict_of(forwarded["Location"]).get("next", ""))


def dict_of(location: str) -> dict:
    from django.http import QueryDict

    return QueryDict(urlsplit(location).query).dict()


@pytest.fixture(autouse=True)
def links_unrationed(settings):
    """Each redirector is tried with every address below: the hour's links are not the point."""
    settings.LINK_EMAILS_PER_HOUR = 10_000


REDIRECTORS = {
    "sign-in": _sign_in_post,
    "sign-in page while signed in": _signed_in_sign_in_page,
    "sign-out": _sign_out,
    "second factor": _code,
    "second factor already given": _code_already_given("accounts:otp_verify"),
    "enrolment already done": _code_already_given("accounts:otp_setup"),
    "upload without script": _back_from("records:upload", lambda w: w.draft.reference),
    "remove a file": _back_from(
        "records:remove", lambda w: w.request.reference, lambda w: w.document.pk
    ),
    "invite": _back_from(
        "intake:request_invite", lambda w: w.draft.reference, lambda w: "pediatrician"
    ),
    "withdraw a link": _back_from(
        "intake:request_link_revoke", lambda w: w.request.reference, lambda w: w.guardian_link.pk
    ),
    "remove a guardian": _back_from(
        "intake:request_access_remove", lambda w: w.request.reference, lambda w: w.access.pk
    ),
    "admin sign-in": _admin_sign_in,
}


@pytest.mark.parametrize("redirector", sorted(REDIRECTORS))
def test_next_never_leads_to_another_site(world, redirector):
    send = REDIRECTORS[redirector]
    wrong = {}

    for next_url in ELSEWHERE:
        response = send(Client(), world, next_url)
        location = response.get("Location", "")
        if response.status_code != 302 or not lands_on_this_site(location):
            wrong[next_url] = (response.status_code, location)

    assert wrong == {}


@pytest.mark.parametrize("redirector", sorted(REDIRECTORS))
def test_next_on_this_site_is_still_followed(world, redirector):
    """The refusals above are not a refusal of every ``next``: a page of this site is where
    the person returns."""
    here = reverse("intake:request_detail", args=[world.request.reference])

    response = REDIRECTORS[redirector](Client(), world, here)

    assert response.status_code == 302
    assert response["Location"] == here


def test_choosing_a_department_never_leads_to_another_site(client, world):
    for department in ELSEWHERE:
        response = client.get(reverse("scheduling:start"), {"department": department})

        assert response.status_code == 200, department
