"""The pages an invitation e-mail links to: a family or a second guardian joins a request
(signing up or in), or reads why the link no longer works."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters

from accounts.models import normalize_email
from accounts.selectors import account_exists
from accounts.services import family_invited_sign_up
from intake import services, wizard
from intake.forms import (
    FamilyAcceptForm,
    InvitationSignUpForm,
    SecondGuardianForm,
)
from intake.links import LinkInvalid, invitation_from_token
from intake.models import Invitation
from intake.selectors import (
    is_guardian,
)


def _masked(email: str) -> str:
    """j•••@example.org: enough to recognise one's own address, not to learn someone's."""
    name, _, domain = email.partition("@")
    return f"{name[:1]}•••@{domain}"


def _read_in_invitation_language(request, invite) -> None:
    """Someone opening an invitation, signed out and without a language chosen on this
    browser, reads the language the invitation was written in (a new account keeps it)."""
    if not request.user.is_authenticated and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
        translation.activate(invite.language)
        request.LANGUAGE_CODE = invite.language


# An error report hides everything posted here: a password, and a child's name and birth date.
@sensitive_post_parameters()
def invitation(request, token):
    """The page an invitation e-mail links to. A genuine, open link lets the invited person
    create an account for the invited address (or sign in to theirs) and join the request;
    anything else explains what happened, and nothing is attached to anyone."""
    try:
        invite = invitation_from_token(token, (Invitation.Kind.FAMILY, Invitation.Kind.GUARDIAN))
    except LinkInvalid:
        return render(request, "intake/invitation_problem.html", {"invalid": True}, status=404)
    _read_in_invitation_language(request, invite)
    try:
        services.invitation_check(invitation=invite)
    except services.InvitationClosed as closed:
        if (
            closed.state == "accepted"
            and invite.accepted_by_id == request.user.pk
            and is_guardian(review_request=invite.request, user=request.user)
        ):
            return redirect("intake:request_detail", reference=invite.request.reference)
        context = {"message": str(closed), "invitation": invite}
        return render(request, "intake/invitation_problem.html", context, status=410)
    context = {"invitation": invite, "masked_email": _masked(invite.email)}
    if not request.user.is_authenticated:
        services.invitation_opened(invitation=invite)
        return _invitation_anonymous(request, invite, context)
    if not request.user.is_family or normalize_email(request.user.email) != invite.email:
        return render(request, "intake/invitation_wrong_account.html", context, status=403)
    services.invitation_opened(invitation=invite)
    form = (
        SecondGuardianForm(request.POST or None, initial={"legal_name": request.user.full_name})
        if invite.kind == Invitation.Kind.GUARDIAN
        else FamilyAcceptForm(request.POST or None)
    )
    if request.method == "POST" and form.is_valid():
        accepted = _accept(request, invite, form)
        if accepted is not None:
            return accepted
    status = 400 if form.errors else 200
    return render(request, "intake/invitation.html", {**context, "form": form}, status=status)


def _invitation_anonymous(request, invite, context):
    if account_exists(email=invite.email):
        login_url = f"{reverse('accounts:login')}?{urlencode({'next': request.path})}"
        return render(
            request, "intake/invitation_sign_in.html", {**context, "login_url": login_url}
        )
    # Nothing of the request is shown before the family has given the child's date of birth
    # (not even the parent's name as the coordinator typed it): the address may be mistyped.
    family = invite.kind == Invitation.Kind.FAMILY
    form = InvitationSignUpForm(request.POST or None, email=invite.email, ask_birth_date=family)
    if request.method == "POST" and form.is_valid():
        closed = _confirm_child(request, invite, form)
        if closed is not None:
            return closed
    if request.method == "POST" and form.is_valid():
        try:
            user = family_invited_sign_up(
                email=invite.email,
                password=form.cleaned_data["password"],
                full_name=form.cleaned_data["full_name"],
            )
        except IntegrityError:
            return redirect(request.path)  # created meanwhile: sign in instead
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        if family:
            return _accept(request, invite, form) or redirect(request.path)
        return redirect(request.path)  # a second guardian states their authority next
    status = 400 if form.errors else 200
    return render(
        request, "intake/invitation_sign_up.html", {**context, "form": form}, status=status
    )


def _closed(request, invite, closed):
    context = {"message": str(closed), "invitation": invite}
    return render(request, "intake/invitation_problem.html", context, status=410)


def _confirm_child(request, invite, form):
    """Check the child's date of birth before an account is made for a family invitation:
    a wrong one is shown on the form (nothing is created); too many withdraw the link."""
    if invite.kind != Invitation.Kind.FAMILY:
        return None
    try:
        services.invitation_confirm_child(
            invitation=invite, date_of_birth=form.cleaned_data["child_date_of_birth"]
        )
    except services.InvitationClosed as closed:
        return _closed(request, invite, closed)
    except ValidationError as wrong:
        wizard.add_errors(form, wrong)
    return None


# What the invited person states when joining (never their password).
ACCEPTANCE_FIELDS = {"child_date_of_birth", "legal_name", "relationship", "has_legal_authority"}


def _accept(request, invite, form):
    """Join the request; ``None`` when the form shows what to correct."""
    stated = {name: value for name, value in form.cleaned_data.items() if name in ACCEPTANCE_FIELDS}
    try:
        review_request = services.invitation_accept(
            invitation=invite, user=request.user, details=stated
        )
    except services.InvitationClosed as closed:
        return _closed(request, invite, closed)
    except services.WrongAccount:
        context = {"invitation": invite, "masked_email": _masked(invite.email)}
        return render(request, "intake/invitation_wrong_account.html", context, status=403)
    except ValidationError as wrong:
        wizard.add_errors(form, wrong)
        return None
    if invite.kind == Invitation.Kind.FAMILY:
        messages.success(
            request,
            _(
                "Welcome. Your coordinator filled in what you told them: check each step, "
                "complete what is missing, and sign the consent yourself."
            ),
        )
        return redirect("intake:wizard_guardian", reference=review_request.reference)
    messages.success(request, _("You now share this request."))
    return redirect("intake:request_detail", reference=review_request.reference)
