"""Staff security that applies to every page: session limits, the second factor, and no
caching of pages a signed-in person sees."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
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


class NoStoreForSignedInMiddleware:
    """A signed-in person's pages may show patient data: no browser or proxy keeps a copy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.user.is_authenticated:
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
