from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.urls import reverse
from django.utils.functional import lazy
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.mail_limits import account_mail_allowed
from accounts.models import User, normalize_email
from notifications.services import message_queue


class SignUpForm(forms.Form):
    full_name = forms.CharField(
        label=_("Your full name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("E-mail address"),
        help_text=_("We send a link to confirm it before you can sign in."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=lazy(password_validation.password_validators_help_text_html, str)(),
    )

    def clean_email(self):
        return normalize_email(self.cleaned_data["email"])

    def clean(self):
        cleaned = super().clean()
        password = cleaned.get("password")
        if password:
            candidate = User(email=cleaned.get("email", ""), full_name=cleaned.get("full_name", ""))
            try:
                password_validation.validate_password(password, candidate)
            except forms.ValidationError as error:
                self.add_error("password", error)
        return cleaned


class LoginForm(AuthenticationForm):
    """E-mail and password. A family whose address is not confirmed yet is told so, with a
    way to get a new link; the message appears only after the right password."""

    username = forms.EmailField(
        label=_("E-mail address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "That e-mail address and password do not match an account. "
            "Check both, or reset your password."
        ),
        "unverified": _("Confirm your e-mail address first: open the link we sent you."),
    }

    def clean_username(self):
        return normalize_email(self.cleaned_data["username"])

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if user.is_family and user.email_verified_at is None:
            raise forms.ValidationError(
                format_html(
                    '{} <a href="{}">{}</a>.',
                    self.error_messages["unverified"],
                    reverse("accounts:resend_verification"),
                    _("Send a new link"),
                ),
                code="unverified",
            )


class ResendVerificationForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's reset form, sending through the outbox (retried, logged) instead of directly.
    The link is built on ``SITE_URL``, never on the request's Host header. Staff who were
    invited but never chose a password can use it too (Django's form skips them)."""

    def get_users(self, email):
        return User.objects.filter(email=normalize_email(email), is_active=True)

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        if not account_mail_allowed(to_email):
            return
        url = reverse(
            "accounts:password_reset_confirm",
            kwargs={"uidb64": context["uid"], "token": context["token"]},
        )
        user = context.get("user")
        message_queue(
            to=to_email,
            template="password_reset",
            language=user.language if user is not None else None,
            context={"reset_url": f"{settings.SITE_URL}{url}"},
        )


class TokenForm(forms.Form):
    token = forms.CharField(
        label="6-digit code",
        max_length=7,  # apps show "123 456"
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
                "autofocus": True,
            }
        ),
    )

    def clean_token(self):
        token = self.cleaned_data["token"].replace(" ", "")
        if not (token.isdigit() and len(token) == 6):
            raise forms.ValidationError("Enter the 6 digits your authenticator app shows.")
        return token
