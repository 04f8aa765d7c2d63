from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django.views.i18n import set_language
from django_otp import login as otp_login
from django_otp import user_has_device

from accounts import services
from accounts.forms import (
    LoginForm,
    OutboxPasswordResetForm,
    ResendVerificationForm,
    SignUpForm,
    TokenForm,
)
from accounts.models import Role
from accounts.qr import qr_code_svg, spaced_secret
from accounts.tokens import ExpiredToken, InvalidToken, email_verification_user

# Where a family who created an account was heading (the page's ``next``), kept in the session
# until the confirmation link is opened in the same browser.
AFTER_SIGN_IN = "accounts:after_sign_in"

WRONG_CODE = (
    "That code is not right, or it has already been used. Wait for your app to show a new "
    "code and enter that one. After several wrong codes, codes are refused for a short while."
)


def _next_url(request, default: str) -> str:
    """The ``next`` address if it is a path on this site (a bare word would be taken for a
    view's name by ``redirect``), else ``default``."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate.startswith("/") and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


@login_required
def home(request):
    """Where each person starts after signing in."""
    role = request.user.role
    if role == Role.FAMILY:
        return redirect("intake:my_requests")
    if role == Role.REVIEWER:
        return redirect("reviews:my_reviews")
    return redirect("admin:index")


@require_POST
def language(request):
    """The switch on every page: Django's ``set_language`` keeps the choice in a cookie and
    goes back to the page (``next``); a signed-in family's account remembers it too."""
    response = set_language(request)
    if request.user.is_authenticated and request.user.is_family:
        services.user_language_set(user=request.user, language=request.POST.get("language", ""))
    return response


def _with_next(view_name: str, next_url: str) -> str:
    """The page's address, carrying ``next`` on (from sign-in to sign-up and back)."""
    path = reverse(view_name)
    return f"{path}?{urlencode({'next': next_url})}" if next_url else path


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        next_url = _next_url(self.request, "")
        return {**context, "sign_up_url": _with_next("accounts:sign_up", next_url)}


class LogoutView(auth_views.LogoutView):
    """POST only (Django's rule); the server-side session is deleted, not just the cookie."""


@sensitive_post_parameters("password")
def sign_up(request):
    if request.user.is_authenticated:
        return redirect("accounts:home")
    form = SignUpForm(request.POST or None)
    next_url = _next_url(request, "")
    if request.method == "POST" and form.is_valid():
        services.family_sign_up(
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password"],
            full_name=form.cleaned_data["full_name"],
        )
        if next_url:
            # Kept in this browser (never in the e-mail): opening the confirmation link here
            # leads to a sign-in that goes on where the family was heading.
            request.session[AFTER_SIGN_IN] = next_url
        return redirect("accounts:check_email")
    context = {"form": form, "next": next_url, "login_url": _with_next("accounts:login", next_url)}
    return render(request, "accounts/sign_up.html", context)


def check_email(request):
    heading = bool(request.session.get(AFTER_SIGN_IN))
    return render(request, "accounts/check_email.html", {"heading_on": heading})


def verify_email(request, token):
    """As every e-mailed link: one we did not make (or for an address since changed) is a
    404, an expired one a 410, each with the way to get a new one."""
    try:
        user = email_verification_user(token)
    except ExpiredToken:
        return render(request, "accounts/verify_failed.html", {"expired": True}, status=410)
    except InvalidToken:
        return render(request, "accounts/verify_failed.html", {"expired": False}, status=404)
    if services.user_verify_email(user=user):
        messages.success(
            request, _("Thank you, your e-mail address is confirmed. You can sign in now.")
        )
    else:
        messages.info(request, _("Your e-mail address was already confirmed."))
    if request.user.is_authenticated:
        return redirect("accounts:home")
    heading = request.session.pop(AFTER_SIGN_IN, "")
    if heading:
        return redirect(f"{reverse('accounts:login')}?{urlencode({'next': heading})}")
    return redirect("accounts:login")


def resend_verification(request):
    form = ResendVerificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.email_verification_resend(email=form.cleaned_data["email"])
        return redirect("accounts:check_email")
    return render(request, "accounts/resend_verification.html", {"form": form})


class PasswordResetView(auth_views.PasswordResetView):
    form_class = OutboxPasswordResetForm
    template_name = "accounts/password_reset.html"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


def locked_out(request, original_response=None, credentials=None):
    """django-axes calls this when an account and address have failed too often."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": minutes}
    return render(request, "accounts/locked_out.html", context, status=429)


def _staff_only(request):
    if not request.user.is_staff_member:
        raise Http404


@login_required
def otp_setup(request):
    """First sign-in of a member of staff: scan a QR code, then prove it with a code."""
    _staff_only(request)
    next_url = _next_url(request, reverse("accounts:home"))
    if request.user.is_verified():
        return redirect(next_url)
    if user_has_device(request.user):
        return redirect(f"{reverse('accounts:otp_verify')}?{request.GET.urlencode()}")
    device = services.totp_enrolment_device(user=request.user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.totp_enrolment_confirm(
            user=request.user, device=device, token=form.cleaned_data["token"]
        ):
            otp_login(request, device)
            messages.success(request, "Your authenticator app is set up.")
            return redirect(next_url)
        form.add_error("token", WRONG_CODE)
    context = {
        "form": form,
        "qr_svg": qr_code_svg(device.config_url),
        "secret": spaced_secret(device),
        "next": next_url,
        "issuer": settings.OTP_TOTP_ISSUER,
    }
    return render(request, "accounts/otp_setup.html", context)


@login_required
def otp_verify(request):
    """Every sign-in of a member of staff: the code from their authenticator app."""
    _staff_only(request)
    next_url = _next_url(request, reverse("accounts:home"))
    if request.user.is_verified():
        return redirect(next_url)
    if not user_has_device(request.user):
        return redirect(f"{reverse('accounts:otp_setup')}?{request.GET.urlencode()}")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = services.totp_verify(user=request.user, token=form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            return redirect(next_url)
        form.add_error("token", WRONG_CODE)
    return render(request, "accounts/otp_verify.html", {"form": form, "next": next_url})
