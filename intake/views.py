from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms.models import model_to_dict
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.request_info import client_ip, user_agent
from intake import services, wizard
from intake.eligibility import EligibilityAnswers, check_eligibility
from intake.forms import (
    AnswerForm,
    ChildForm,
    ConsentForm,
    EligibilityForm,
    GuardianForm,
    QuestionnaireForm,
)
from intake.lifecycle import Status
from intake.models import Child, Guardian, ReviewService
from intake.selectors import (
    catalogue_departments,
    consent_text_current,
    last_question,
    questionnaire_current,
    request_summary,
    request_timeline,
    review_request_get_for_family,
    review_request_get_for_user,
    review_requests_for_user,
)


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
            request, "First answer the four questions below to check this review is for you."
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
    is_family = review_request.family_id == request.user.pk
    context = {
        "review_request": review_request,
        "events": request_timeline(review_request=review_request),
        "can_add_files": is_family
        and review_request.status in {Status.SUBMITTED, Status.NEEDS_INFO},
        "question": last_question(review_request=review_request)
        if review_request.clock_paused
        else None,
        "answer_form": AnswerForm() if is_family and review_request.clock_paused else None,
    }
    return render(request, "intake/request_detail.html", context)


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
            messages.info(request, "This request is no longer waiting for an answer.")
        else:
            messages.success(request, "Thank you. Your answer was sent to the team.")
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
    if hasattr(review_request, "consent_signature"):
        # The signed consent carries this name: it is shown, not editable.
        form.fields["legal_name"].widget.attrs["readonly"] = True
    return wizard.run_step(
        request,
        review_request,
        "guardian",
        form,
        lambda data: services.guardian_save(review_request=review_request, fields=data),
        intro="Tell us who you are. We use this to contact you and on the financial consent.",
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
        intro="About your child, the diagnosis you were given, and what you want to know.",
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
        intro="Questions about your child's health history. Answer what you can, and come "
        "back for the rest.",
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
            messages.success(request, "Your request was sent. Thank you.")
            return redirect("intake:request_detail", reference=reference)
    context = {
        "review_request": review_request,
        "submit_missing": missing,
        **request_summary(review_request=review_request),
        **wizard.progress(review_request, "review"),
    }
    return render(request, "intake/wizard/review.html", context, status=400 if missing else 200)
