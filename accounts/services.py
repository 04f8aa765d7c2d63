"""Every change to accounts: sign-up, e-mail confirmation, roles, staff and second factors."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp import verify_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.mail_limits import account_mail_allowed
from accounts.models import Role, User, normalize_email
from accounts.roles import group_name
from accounts.tokens import email_verification_token
from notifications.services import message_queue


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def user_set_role(*, user: User, role: str) -> User:
    """Give the user ``role`` and exactly the group (permissions) that goes with it."""
    user.role = role
    user.save(update_fields=["role"])
    group, _ = Group.objects.get_or_create(name=group_name(role))
    user.groups.set([group])
    return user


def language_or_default(language: str | None) -> str:
    """``language`` if the portal speaks it, else the portal's default (English)."""
    known = {code for code, _ in settings.LANGUAGES}
    return language if language in known else settings.LANGUAGE_CODE


def user_language_set(*, user: User, language: str) -> User:
    """Remember the language a family chose with the switch: its pages and every e-mail to
    it (those sent later by a task too) follow it. An unknown code is ignored."""
    if language in {code for code, _ in settings.LANGUAGES} and user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return user


def family_sign_up(
    *, email: str, password: str, full_name: str, language: str | None = None
) -> User | None:
    """Create a family account that can sign in once its address is confirmed, and send the
    confirmation link. If the address already has an account, nothing is created and the
    owner is told by e-mail instead: the page looks the same either way, so sign-up never
    reveals who uses the portal. Returns the new account, or None. ``language`` (default:
    the page's) is the account's, and the e-mail's."""
    email = normalize_email(email)
    language = language_or_default(language or translation.get_language())
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=email, password=password, full_name=full_name, language=language
            )
            user_set_role(user=user, role=Role.FAMILY)
            email_verification_send(user=user)
    except IntegrityError:
        user = None
    if user is None and account_mail_allowed(email):
        message_queue(
            to=email,
            template="account_exists",
            language=language,
            context={
                "login_url": _absolute(reverse("accounts:login")),
                "reset_url": _absolute(reverse("accounts:password_reset")),
            },
        )
    return user


def email_verification_send(*, user: User) -> None:
    """Queue a fresh confirmation link for an account whose address is not confirmed yet."""
    if user.email_verified_at is not None or not account_mail_allowed(user.email):
        return
    path = reverse("accounts:verify_email", kwargs={"token": email_verification_token(user)})
    days = settings.EMAIL_VERIFICATION_TIMEOUT // 86400
    message_queue(
        to=user.email,
        template="verify_email",
        language=user.language,
        context={"verify_url": _absolute(path), "valid_days": days},
    )


def email_verification_resend(*, email: str) -> None:
    """Resend the link if an unconfirmed account has this address; silent otherwise."""
    user = User.objects.filter(
        email=normalize_email(email), is_active=True, email_verified_at__isnull=True
    ).first()
    if user is not None:
        email_verification_send(user=user)


def user_verify_email(*, user: User) -> bool:
    """Mark the address confirmed. Returns False if it already was (a link used twice)."""
    updated = User.objects.filter(pk=user.pk, email_verified_at__isnull=True).update(
        email_verified_at=timezone.now()
    )
    user.refresh_from_db(fields=["email_verified_at"])
    return updated == 1


def staff_user_create(*, email: str, full_name: str, role: str) -> User:
    """Add a member of staff. They have no password until they follow the link e-mailed to
    them, and must enrol a second factor at their first sign-in."""
    if role not in {Role.COORDINATOR, Role.REVIEWER, Role.ADMIN}:
        raise ValueError(f"{role!r} is not a staff role.")
    with transaction.atomic():
        user = User.objects.create_user(
            email=email, password=None, full_name=full_name, email_verified_at=timezone.now()
        )
        user_set_role(user=user, role=role)
        staff_invite_send(user=user)
    return user


def staff_invite_send(*, user: User) -> bool:
    """(Re)send the choose-your-password link to staff who have not chosen one yet. The link
    lasts PASSWORD_RESET_TIMEOUT; after that "Forgot your password?" sends a fresh one.
    Returns False (nothing sent) for someone who already has a password."""
    if user.has_usable_password() or not user.is_active:
        return False
    path = reverse(
        "accounts:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    message_queue(
        to=user.email,
        template="staff_invite",
        context={
            "set_password_url": _absolute(path),
            "role": user.get_role_display(),
            "valid_minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
            "forgot_url": _absolute(reverse("accounts:password_reset")),
        },
    )
    return True


def totp_enrolment_device(*, user: User) -> TOTPDevice:
    """The unconfirmed authenticator a member of staff is enrolling. Reloading the page keeps
    the same secret, so a code from an already scanned QR code still works."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def totp_enrolment_confirm(*, user: User, device: TOTPDevice, token: str) -> bool:
    """Confirm the enrolling device with a code from it; it becomes the user's only device."""
    if verify_token(user, device.persistent_id, token) is None:
        return False
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
    device.confirmed = True
    return True


def totp_verify(*, user: User, token: str) -> TOTPDevice | None:
    """The user's confirmed device if ``token`` is a valid code not used before, else None.
    The device row is locked while checking, so one code cannot pass twice."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        return None
    return verify_token(user, device.persistent_id, token)


def second_factor_reset(*, user: User) -> None:
    """Remove the user's authenticators (a lost phone): they enrol again at next sign-in."""
    TOTPDevice.objects.filter(user=user).delete()


def family_invited_sign_up(
    *, email: str, password: str, full_name: str, language: str | None = None
) -> User:
    """A family account for someone who opened an invitation e-mailed to ``email``: the link
    reached that inbox, so the address counts as confirmed and they may sign in at once.
    Raises ``IntegrityError`` if the address already has an account (they sign in instead).
    ``language`` (default: the page's) is the account's."""
    with transaction.atomic():
        user = User.objects.create_user(
            email=normalize_email(email),
            password=password,
            full_name=full_name,
            email_verified_at=timezone.now(),
            language=language_or_default(language or translation.get_language()),
        )
        user_set_role(user=user, role=Role.FAMILY)
    return user
