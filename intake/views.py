from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.forms.models import model_to_dict
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts.models import normalize_email
from accounts.request_info import client_ip, user_agent
from accounts.selectors import account_exists
from accounts.services import family_invited_sign_up
from intake import services, wizard
from intake.eligibility import EligibilityAnswers, check_eligibility
from intake.forms import (
    AnswerForm,
    ChildForm,
    ConsentForm,
    EligibilityForm,
    FamilyAcceptForm,
    GuardianForm,
    InvitationSignUpForm,
    InviteForm,
    QuestionnaireForm,
    SecondGuardianForm,
)
from intake.lifecycle import Status
from intake.links import LinkInvalid, invitation_from_token
from intake.models import Child, Guardian, Invitation, ReviewService
from intake.selectors import (
    catalogue_departments,
    consent_text_current,
    is_guardian,
    last_question,
    links_unused,
    pediatrician_email,
    questionnaire_current,
    request_summary,
    request_timeline,
    review_countdown,
    review_request_get_for_family,
    review_request_get_for_primary,
    review_request_get_for_user,
    review_requests_for_user,
    shared_accesses,
)
from intake.services import INVITABLE


def catalogue(request):
    """The public front page: departments to call, and the document reviews on offer."""
    return render(request, "intake/catalogue.html", {"departments": catalogue_departments()})


def _eligibility_key(service: ReviewService) -> str:
    return f"eligibility:{service.pk}"


def service_detail(request, slug):
    """What a review is, who reads it, what it costs and what to send; and the eligibility
    check that comes before any account or payment."""
    service = get_object_or_404(
        ReviewService.objects.select_related("department"), slug=slug, active=True
    )
    form = EligibilityForm(request.POST or None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = check_eligibility(service, EligibilityAnswers(**form.cleaned_data))
        if result.eligible:
            request.session[_eligibility_key(service)] = {
                **form.cleaned_data,
                "eligible": True,
                "checked_at": timezone.now().isoformat(),
            }
            return redirect(f"{request.path}#start")
    context = {
        "service": service,
        "form": form,
        "result": result,
        "eligible": request.session.get(_eligibility_key(service)),
    }
    return render(request, "intake/service_detail.html", context)


@require_POST
@login_required
def start(request, slug):
    """Create the family's draft from the eligibility answers given in this browser."""
    if not request.user.is_family:
        raise Http404
    service = get_object_or_404(ReviewService, slug=slug, active=True)
    eligibility = request.session.pop(_eligibility_key(service), None)
    if not eligibility:
        messages.info(
            request, _("First answer the four questions below to check this review is for you.")
        )
        return redirect("intake:service_detail", slug=slug)
    review_request = services.review_request_start(
        service=service, family=request.user, eligibility=eligibility
    )
    return redirect("intake:wizard_guardian", reference=review_request.reference)


@login_required
def my_requests(request):
    if not request.user.is_family:
        raise Http404
    requests = review_requests_for_user(user=request.user).order_by("-created_at")
    pending = ReviewService.objects.filter(
        pk__in=[
            int(key.split(":")[1])
            for key in request.session.keys()  # noqa: SIM118 (a session is not iterable)
            if key.startswith("eligibility:")
        ],
        active=True,
    )
    return render(
        request, "intake/my_requests.html", {"requests": requests, "pending_services": pending}
    )


@login_required
def request_detail(request, reference):
    """The status page: where the request is, what comes next, what was sent; the family can
    add files while the team works on it, and answer when asked for more information."""
    review_request = review_request_get_for_user(user=request.user, reference=reference)
    return render(request, "intake/request_detail.html", _detail(request, review_request))


def _detail(request, review_request, **shown) -> dict:
    """The status page's context; ``shown`` replaces a form (one posted with errors)."""
    guardian = is_guardian(review_request=review_request, user=request.user)
    sharing = _sharing(request, review_request) if guardian else {}
    return {
        "review_request": review_request,
        "countdown": review_countdown(review_request=review_request, now=timezone.now()),
        "events": request_timeline(review_request=review_request),
        "is_guardian": guardian,
        "can_add_files": guardian
        and review_request.status in {Status.SUBMITTED, Status.NEEDS_INFO},
        "question": last_question(review_request=review_request)
        if review_request.clock_paused
        else None,
        "answer_form": AnswerForm() if guardian and review_request.clock_paused else None,
        **sharing,
        **shown,
    }


def _sharing(request, review_request) -> dict:
    """The "People on this request" panel, for a guardian: the primary guardian manages it;
    a second guardian sees who is on it."""
    primary = review_request.family_id == request.user.pk
    return {
        "is_primary": primary,
        "second_guardians": shared_accesses(review_request=review_request).filter(
            removed_at__isnull=True
        ),
        "open_links": links_unused(review_request=review_request, now=timezone.now()).exclude(
            kind=Invitation.Kind.FAMILY
        )
        if primary
        else [],
        "guardian_form": InviteForm(prefix="guardian") if primary else None,
        "pediatrician_form": InviteForm(
            prefix="pediatrician",
            initial={"email": pediatrician_email(review_request=review_request)},
        )
        if primary and review_request.status in INVITABLE[Invitation.Kind.PEDIATRICIAN]
        else None,
    }


@require_POST
@login_required
def request_invite(request, reference, kind):
    """The primary guardian e-mails a second guardian an invitation, or the pediatrician an
    upload link (from the status page or the referral step)."""
    review_request = review_request_get_for_primary(user=request.user, reference=reference)
    if kind not in (Invitation.Kind.GUARDIAN, Invitation.Kind.PEDIATRICIAN):
        raise Http404
    form = InviteForm(request.POST, prefix=kind)
    if form.is_valid():
        try:
            services.invitation_send(
                review_request=review_request,
                kind=kind,
                email=form.cleaned_data["email"],
                actor=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("The link was e-mailed to %(email)s.") % {"email": form.cleaned_data["email"]},
            )
            return wizard.redirect_back(request, review_request)
    if request.POST.get("next"):  # the referral step: its form fills the address in again
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
        return wizard.redirect_back(request, review_request)
    # The status page again, with what was typed and what is wrong with it.
    context = _detail(request, review_request, **{f"{kind}_form": form})
    return render(request, "intake/request_detail.html", context, status=400)


@require_POST
@login_required
def request_link_revoke(request, reference, invitation_id):
    review_request = review_request_get_for_primary(user=request.user, reference=reference)
    invitation = get_object_or_404(
        review_request.invitations.exclude(kind=Invitation.Kind.FAMILY), pk=invitation_id
    )
    services.invitation_revoke(invitation=invitation, actor=request.user)
    messages.success(request, _("The link no longer works."))
    return wizard.redirect_back(request, review_request)


@require_POST
@login_required
def request_access_remove(request, reference, access_id):
    review_request = review_request_get_for_primary(user=request.user, reference=reference)
    access = get_object_or_404(
        review_request.shared_accesses.filter(removed_at__isnull=True), pk=access_id
    )
    services.shared_access_remove(access=access, actor=request.user)
    messages.success(
        request,
        _("%(name)s no longer has access to this request.") % {"name": access.legal_name},
    )
    return wizard.redirect_back(request, review_request)


# --- Invitations ---------------------------------------------------------------------------


def _masked(email: str) -> str:
    """j•••@example.org: enough to recognise one's own address, not to learn someone's."""
    name, _, domain = email.partition("@")
    return f"{name[:1]}•••@{domain}"


@sensitive_post_parameters("password")
def _read_in_invitation_language(request, invite) -> None:
    """Someone opening an invitation, signed out and without a language chosen on this
    browser, reads the language the invitation was written in (a new account keeps it)."""
    if not request.user.is_authenticated and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
        translation.activate(invite.language)
        request.LANGUAGE_CODE = invite.language


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


@require_POST
@login_required
def request_answer(request, reference):
    review_request = review_request_get_for_family(user=request.user, reference=reference)
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            services.review_request_answer(
                review_request=review_request, text=form.cleaned_data["text"], actor=request.user
            )
        except services.InvalidTransition:
            messages.info(request, _("This request is no longer waiting for an answer."))
        else:
            messages.success(request, _("Thank you. Your answer was sent to the team."))
        return redirect("intake:request_detail", reference=reference)
    context = {
        "review_request": review_request,
        "events": request_timeline(review_request=review_request),
        "can_add_files": True,
        "question": last_question(review_request=review_request),
        "answer_form": form,
    }
    return render(request, "intake/request_detail.html", context, status=400)


# --- The wizard ----------------------------------------------------------------------------


def _details_initial(model, review_request) -> dict:
    details = model.objects.filter(request=review_request).first()
    return model_to_dict(details, exclude=["id", "request", "updated_at"]) if details else {}


@wizard.family_draft
def wizard_guardian(request, review_request):
    form = GuardianForm(request.POST or None, initial=_details_initial(Guardian, review_request))
    if review_request.family_id != request.user.pk:
        # A second guardian sees the primary guardian's details; only they change them.
        for field in form.fields.values():
            field.disabled = True
        return wizard.run_step(
            request,
            review_request,
            "guardian",
            form,
            lambda data: None,
            intro=_(
                "The primary guardian's details, as they gave them: only they can change these."
            ),
        )
    signature = getattr(review_request, "consent_signature", None)
    if signature is not None and signature.signed_by_id == request.user.pk:
        # The signed consent carries this name: it is shown, not editable.
        form.fields["legal_name"].widget.attrs["readonly"] = True
    return wizard.run_step(
        request,
        review_request,
        "guardian",
        form,
        lambda data: services.guardian_save(review_request=review_request, fields=data),
        intro=_("Tell us who you are. We use this to contact you and on the financial consent."),
    )


@wizard.family_draft
def wizard_child(request, review_request):
    form = ChildForm(request.POST or None, initial=_details_initial(Child, review_request))
    return wizard.run_step(
        request,
        review_request,
        "child",
        form,
        lambda data: services.child_save(review_request=review_request, fields=data),
        intro=_("About your child, the diagnosis you were given, and what you want to know."),
    )


@wizard.family_draft
def wizard_questionnaire(request, review_request):
    answers = getattr(review_request, "questionnaire_answers", None)
    questionnaire = (
        answers.questionnaire if answers else questionnaire_current(service=review_request.service)
    )
    if questionnaire is None:
        raise Http404
    form = QuestionnaireForm(
        request.POST or None,
        questions=list(questionnaire.questions.order_by("position", "pk")),
        initial=answers.answers if answers else {},
    )
    return wizard.run_step(
        request,
        review_request,
        "questionnaire",
        form,
        lambda data: services.questionnaire_answers_save(
            review_request=review_request, answers=data
        ),
        intro=_(
            "Questions about your child's health history. Answer what you can, and come "
            "back for the rest."
        ),
    )


@wizard.family_draft
def wizard_consent(request, review_request):
    signature = getattr(review_request, "consent_signature", None)

    def sign(data):
        services.consent_sign(
            review_request=review_request,
            typed_name=data["typed_name"],
            actor=request.user,
            ip_address=client_ip(request),
            user_agent=user_agent(request),
        )

    # Once signed there is nothing to fill in: the buttons only move on.
    form = forms.Form(request.POST or None) if signature else ConsentForm(request.POST or None)
    return wizard.run_step(
        request,
        review_request,
        "consent",
        form,
        (lambda data: None) if signature else sign,
        template="intake/wizard/consent.html",
        signature=signature,
        consent_text=signature.consent_text if signature else consent_text_current(),
        service=review_request.service,
    )


@wizard.family_draft
def wizard_review(request, review_request):
    """Everything at a glance, what is still missing, and the button that sends it."""
    reference = review_request.reference
    missing = None
    if request.method == "POST":
        try:
            services.review_request_submit(review_request=review_request, actor=request.user)
        except services.IncompleteRequest as incomplete:
            missing = incomplete.missing
        except services.RequestLocked:
            return redirect("intake:request_detail", reference=reference)
        else:
            messages.success(request, _("Your request was sent. Thank you."))
            return redirect("intake:request_detail", reference=reference)
    context = {
        "review_request": review_request,
        "submit_missing": missing,
        **request_summary(review_request=review_request),
        **wizard.progress(review_request, "review"),
    }
    return render(request, "intake/wizard/review.html", context, status=400 if missing else 200)
