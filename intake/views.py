"""The family's pages around a request: the catalogue, starting a request, My requests, a
request's status page with its sharing, and answering the team's question. The invitation
pages are in ``intake.invitation_views``, the wizard's steps in ``intake.wizard_views``."""

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from intake import services, wizard
from intake.eligibility import EligibilityAnswers, check_eligibility
from intake.forms import (
    AnswerForm,
    EligibilityForm,
    InviteForm,
)
from intake.lifecycle import Status
from intake.models import Invitation, ReviewService
from intake.selectors import (
    catalogue_departments,
    is_guardian,
    last_question,
    links_unused,
    pediatrician_email,
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
    """The public front page: the document reviews on offer first, then departments to call."""
    departments = list(catalogue_departments())
    services = [service for department in departments for service in department.active_services]
    context = {"departments": departments, "review_services": services}
    return render(request, "intake/catalogue.html", context)


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


def _started_key(service: ReviewService) -> str:
    return f"started:{service.pk}"


def start_on_sign_in(request, user) -> None:
    """A parent who checked a review in this browser and signs in from its result (the
    sign-in's ``next`` is that review's ``start_continue``) has asked to start it: the draft
    is made, with the answers given, as "Start my request" would, in the sign-in's POST.
    ``start_continue`` then opens it. Signing in any other way starts nothing."""
    target = wizard.safe_path(request, request.POST.get("next", ""))
    try:
        match = resolve(urlsplit(target).path) if target else None
    except Resolver404:
        match = None
    if match is None or match.view_name != "intake:start_continue":
        return
    service = ReviewService.objects.filter(slug=match.kwargs["slug"], active=True).first()
    eligibility = request.session.pop(_eligibility_key(service), None) if service else None
    if not eligibility:
        return
    review_request = services.review_request_start(
        service=service, family=user, eligibility=eligibility
    )
    request.session[_started_key(service)] = review_request.reference


@login_required
def start_continue(request, slug):
    """Where signing in (or creating an account) from an eligibility result leads: into the
    request that sign-in started, at its first step still to fill in. Without one (opened
    again later, or the answers were given in another browser) the service's page, which
    offers "Start my request" or the four questions (or, to staff, says who starts one)."""
    service = get_object_or_404(ReviewService, slug=slug, active=True)
    reference = request.session.pop(_started_key(service), None)
    if reference and request.user.is_family:
        review_request = review_request_get_for_family(user=request.user, reference=reference)
        messages.success(request, _("Your request is started, with the answers you gave."))
        return redirect(wizard.resume_url(review_request))
    return redirect("intake:service_detail", slug=slug)


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
    upload link, from the status page (the referral step sends it with its own form)."""
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
