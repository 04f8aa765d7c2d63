"""Security that applies to every page: session limits and the second factor for staff, no
caching of anything that may show patient data, and the refusal of requests no browser
sends."""

import time
from urllib.parse import unquote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import BadRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from accounts.signals import LAST_SEEN_AT, SESSION_STARTED_AT

# Pages a signed-in member of staff may load before passing the second factor.
SECOND_FACTOR_EXEMPT = frozenset(
    {"accounts:otp_setup", "accounts:otp_verify", "accounts:logout", "healthz"}
)


def _redirect_keeping_place(request, url_name: str):
    """Send the person to ``url_name``, to come back to this page afterwards (for a GET;
    a form post cannot be replayed, so it starts again from the default page)."""
    target = reverse(url_name)
    if request.method == "GET":
        target = f"{target}?{urlencode({'next': request.get_full_path()})}"
    return redirect(target)


class SessionTimeoutMiddleware:
    """Everyone is signed out ``SESSION_MAX_HOURS`` after signing in; staff also after
    ``STAFF_SESSION_IDLE_MINUTES`` without a request and ``STAFF_SESSION_MAX_HOURS``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated:
            now = int(time.time())
            # A session from before these stamps existed starts counting now.
            started = request.session.setdefault(SESSION_STARTED_AT, now)
            last_seen = request.session.get(LAST_SEEN_AT, now)
            if self._expired(user, now, started, last_seen):
                logout(request)
                messages.info(request, _("You were signed out to protect patient information."))
                return _redirect_keeping_place(request, "accounts:login")
            if user.is_staff_member:
                request.session[LAST_SEEN_AT] = now
        return self.get_response(request)

    @staticmethod
    def _expired(user, now: int, started: int, last_seen: int) -> bool:
        if now - started > settings.SESSION_COOKIE_AGE:
            return True
        if not user.is_staff_member:
            return False
        return (
            now - last_seen > settings.STAFF_SESSION_IDLE_SECONDS
            or now - started > settings.STAFF_SESSION_MAX_SECONDS
        )


class StaffSecondFactorMiddleware:
    """No page loads for a member of staff until they have passed a TOTP code in this
    session: they are sent to enrol (first time) or to enter a code."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not (user.is_authenticated and user.is_staff_member) or user.is_verified():
            return None
        if request.resolver_match.view_name in SECOND_FACTOR_EXEMPT:
            return None
        from django_otp import user_has_device

        target = "accounts:otp_verify" if user_has_device(user) else "accounts:otp_setup"
        return _redirect_keeping_place(request, target)


# Public pages that show nothing about anyone: a browser or proxy may keep a copy of them
# for a visitor who is not signed in (what a GET shows; never the answer to a form, nor an
# error).
CACHEABLE_PAGES = frozenset(
    {"intake:catalogue", "intake:service_detail", "scheduling:start", "scheduling:slots"}
)


class NoStoreMiddleware:
    """No browser or proxy keeps a copy of a response that may show patient data: every page
    of a signed-in person, and every other response too (a page opened by an e-mailed link,
    the call just booked, an error page) except the public pages of ``CACHEABLE_PAGES``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = request.resolver_match
        public = (
            request.method in ("GET", "HEAD")
            and response.status_code == 200
            and match is not None
            and match.view_name in CACHEABLE_PAGES
        )
        if request.user.is_authenticated or not public:
            add_never_cache_headers(response)
            patch_cache_control(response, private=True)
        return response


class SameOriginNullOriginMiddleware:
    """Lets Django's CSRF protection work under ``Referrer-Policy: no-referrer``.

    Under that policy browsers send ``Origin: null`` (and no Referer) with the portal's own
    form posts, which Django's CSRF middleware (next in the list) would refuse. Such a post is
    taken as coming from this site only when the browser's Fetch Metadata says so
    (``Sec-Fetch-Site: same-origin``, a header no page script can set; sandboxed frames and
    data: pages never send it). Django then checks the CSRF token exactly as always.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            request.META.get("HTTP_ORIGIN") == "null"
            and request.META.get("HTTP_SEC_FETCH_SITE") == "same-origin"
        ):
            request.META["HTTP_ORIGIN"] = f"{request.scheme}://{request.get_host()}"
        return self.get_response(request)


class AccountLanguageMiddleware:
    """The language of the page, after Django's ``LocaleMiddleware`` has read the switch's
    cookie or the browser's preference: a signed-in family reads the language kept on its
    account (whatever device it signs in from), and every staff page stays English."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._admin_prefix = None

    def __call__(self, request):
        language = None
        if self._admin_prefix is None:
            self._admin_prefix = reverse("admin:index")
        # Staff read English everywhere; the admin's own sign-in page too.
        if request.path.startswith(self._admin_prefix) or (
            request.user.is_authenticated and request.user.is_staff_member
        ):
            language = settings.LANGUAGE_CODE
        elif request.user.is_authenticated and request.user.language:
            language = request.user.language
        if language and language != request.LANGUAGE_CODE:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)


class MalformedRequestMiddleware:
    """Refuses (400) what no browser sends and what would fail deep inside a view instead:

    * a NUL character in the address or its query string: PostgreSQL refuses NUL in text,
      so looking up such a reference, slug or search term would end in a server error;
    * a ``Content-Length`` that is not a number: Django's own reading of the body fails on it
      (gunicorn refuses one too, but the portal does not rely on what stands in front).

    Form fields are not checked here: a NUL typed into a form is refused by the form, next to
    its field, with everything else that was typed kept.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path_info or "\x00" in unquote(query):
            raise BadRequest("A NUL character in the address.")
        length = request.META.get("CONTENT_LENGTH") or ""
        if length and not (length.isascii() and length.isdigit()):
            raise BadRequest("A Content-Length that is not a number.")
        return self.get_response(request)
