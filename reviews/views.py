"""The reviewer workspace (outside the admin; staff sign in with their second factor) and
the family's follow-up questions. Every view loads the request through a selector scoped
to the person: a case that is not theirs is a 404."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.request_info import client_ip
from intake.selectors import review_countdown, review_request_get_for_family
from records.models import AccessLog
from records.services import access_log_write
from reviews import selectors, services
from reviews.forms import (
    DeclineForm,
    FinalOpinionForm,
    FollowUpAnswerForm,
    FollowUpForm,
    OpinionForm,
)
from reviews.models import FinalOpinion, FollowUpQuestion


def _reviewer(view):
    """Signed in as a reviewer; anyone else gets a 404 (the workspace is not theirs)."""

    @wraps(view)
    @login_required
    def guarded(request, *args, **kwargs):
        if not request.user.is_reviewer:
            raise Http404
        return view(request, *args, **kwargs)

    return guarded


@_reviewer
def my_reviews(request):
    """A reviewer's assigned requests, the nearest due date first, with days left; the
    finished ones a page at a time (``?page=2`` for older ones)."""
    try:
        page = max(int(request.GET.get("page", 1)), 1)
    except ValueError:
        page = 1
    cases, older = selectors.reviewer_cases(user=request.user, now=timezone.now(), page=page)
    return render(
        request,
        "reviews/my_reviews.html",
        {
            "cases": cases,
            "page": page,
            "older_page": page + 1 if older else None,
            "newer_page": page - 1 if page > 1 else None,
            "finished_shown": selectors.FINISHED_SHOWN,
        },
    )


def _case_context(request, review_request) -> dict:
    assignment = selectors.assignment_for(review_request=review_request, user=request.user)
    members = selectors.panel_members(review_request=review_request)
    return {
        "review_request": review_request,
        "assignment": assignment,
        "members": members,
        "all_submitted": selectors.panel_complete(review_request=review_request, members=members),
        "mine": next(m for m in members if m.assignment.pk == assignment.pk),
        "final": FinalOpinion.objects.filter(request=review_request).first(),
        "follow_ups": selectors.follow_ups_of(review_request=review_request),
    }


@_reviewer
def case(request, reference):
    """Everything the panel reads: the child, the family's questions, the history, the
    questionnaire as answered, consent, the referral and every record (previews stepped
    through in the page). The opening of the case is written to the access log."""
    log = {"user": request.user, "document_id": None, "action": AccessLog.Action.VIEW}
    try:
        review_request = selectors.case_get_for_reviewer(user=request.user, reference=reference)
    except Http404:
        # A refusal is logged too, against the request aimed at (never shown to anyone).
        access_log_write(
            review_request_id=selectors.request_id_for_log(reference=reference),
            outcome=AccessLog.Outcome.DENIED,
            ip_address=client_ip(request),
            **log,
        )
        raise
    access_log_write(
        review_request_id=review_request.pk,
        outcome=AccessLog.Outcome.ALLOWED,
        ip_address=client_ip(request),
        **log,
    )
    context = {
        **_case_context(request, review_request),
        **selectors.case_file(review_request=review_request),
        "countdown": review_countdown(review_request=review_request, now=timezone.now()),
    }
    return render(request, "reviews/case.html", context)


def _opinion_fields(form) -> dict:
    return {name: value for name, value in form.cleaned_data.items() if name in form.fields}


@_reviewer
def opinion(request, reference):
    """The reviewer's opinion: saved as a draft, or submitted (then final)."""
    review_request = selectors.case_get_for_reviewer(user=request.user, reference=reference)
    context = _case_context(request, review_request)
    context["citations"] = selectors.case_citations(review_request=review_request)
    draft, submitted = context["mine"].draft, context["mine"].opinion
    amendment = draft is not None and draft.version > 1
    if request.method == "POST":
        form = OpinionForm(request.POST, amendment=amendment)
        if form.is_valid():
            return _opinion_post(request, review_request, form, context)
    elif draft is not None or submitted is None:  # a draft, or nothing written yet
        initial = _initial(draft, services.OPINION_FIELDS) if draft else {}
        form = OpinionForm(initial=initial, amendment=amendment)
    else:
        form = None
    return render(request, "reviews/opinion.html", {**context, "form": form}, status=_status(form))


def _status(form) -> int:
    """400 for a refused form (as the other workspace pages answer), else 200."""
    return 400 if form is not None and form.errors else 200


def _show_missing(form, incomplete, prefix: str) -> None:
    """Each missing answer the service named, on its field (or above the form)."""
    for name, label in incomplete.missing.items():
        form.add_error(name if name in form.fields else None, f"{prefix}: {label}.")


def _initial(instance, names) -> dict:
    return {name: getattr(instance, name) for name in names}


def _opinion_post(request, review_request, form, context):
    fields = _opinion_fields(form)
    try:
        if "submit" in request.POST:
            services.opinion_submit(
                review_request=review_request, fields=fields, actor=request.user
            )
            messages.success(request, "Your opinion is submitted.")
        else:
            services.opinion_draft_save(
                review_request=review_request, fields=fields, actor=request.user
            )
            messages.success(request, "Your draft is saved.")
    except services.Incomplete as incomplete:
        _show_missing(form, incomplete, "Required to submit")
        # The draft itself was kept; only the submission was refused.
        return render(request, "reviews/opinion.html", {**context, "form": form}, status=400)
    except services.ReviewClosed as closed:
        messages.error(request, str(closed))
    return redirect("reviews:opinion", reference=review_request.reference)


@require_POST
@_reviewer
def opinion_autosave(request, reference):
    """Keep the draft as the reviewer types (the page posts it every few seconds)."""
    review_request = selectors.case_get_for_reviewer(user=request.user, reference=reference)
    form = OpinionForm(request.POST, amendment=True)
    if not form.is_valid():
        return JsonResponse({"saved": False, "error": "Some answers are not valid."}, status=400)
    fields = {name: form.cleaned_data[name] for name in form.fields if name in request.POST}
    if "next_steps_present" in request.POST:
        fields["next_steps"] = form.cleaned_data["next_steps"]
    try:
        draft = services.opinion_draft_save(
            review_request=review_request, fields=fields, actor=request.user
        )
    except services.ReviewClosed as closed:
        return JsonResponse({"saved": False, "error": str(closed)}, status=409)
    saved_at = timezone.localtime(draft.updated_at)
    return JsonResponse({"saved": True, "saved_at": saved_at.strftime("%H:%M:%S")})


@require_POST
@_reviewer
def opinion_amend(request, reference):
    review_request = selectors.case_get_for_reviewer(user=request.user, reference=reference)
    try:
        services.opinion_amend(review_request=review_request, actor=request.user)
    except services.ReviewClosed as closed:
        messages.error(request, str(closed))
    return redirect("reviews:opinion", reference=reference)


@_reviewer
def decline(request, reference):
    """Step off the case (conflict of interest, unavailable): access ends at once."""
    review_request = selectors.case_get_for_reviewer(user=request.user, reference=reference)
    assignment = selectors.assignment_for(review_request=review_request, user=request.user)
    form = DeclineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.assignment_decline(
                assignment=assignment,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                actor=request.user,
            )
        except (services.PanelError, services.ReviewClosed) as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"You declined {reference}. The coordinator is told.")
            return redirect("reviews:my_reviews")
    status = 400 if form.errors else 200
    context = {"review_request": review_request, "form": form}
    return render(request, "reviews/decline.html", context, status=status)


@_reviewer
def final_opinion(request, reference):
    """The lead's letter: drafted, then signed (final: rendered as PDF, request ready)."""
    review_request = selectors.case_get_for_reviewer(user=request.user, reference=reference)
    context = _case_context(request, review_request)
    if not context["assignment"].is_lead:
        raise Http404
    context["key_images"] = selectors.key_image_notes(review_request=review_request)
    final = context["final"]
    if request.method == "POST":
        form = FinalOpinionForm(request.POST)
        if form.is_valid():
            return _final_post(request, review_request, form, context)
    else:
        initial = _initial(final, services.FINAL_FIELDS) if final else {}
        form = FinalOpinionForm(initial=initial)
    return render(request, "reviews/final.html", {**context, "form": form}, status=_status(form))


def _final_post(request, review_request, form, context):
    fields = {name: form.cleaned_data[name] for name in services.FINAL_FIELDS}
    try:
        if "sign" in request.POST:
            services.final_opinion_sign(
                review_request=review_request,
                fields=fields,
                signed_name=form.cleaned_data["signed_name"],
                actor=request.user,
            )
            messages.success(request, "The final opinion is signed. The coordinator delivers it.")
            return redirect("reviews:case", reference=review_request.reference)
        services.final_opinion_save(
            review_request=review_request, fields=fields, actor=request.user
        )
        messages.success(request, "Your draft of the final opinion is saved.")
    except services.Incomplete as incomplete:
        _show_missing(form, incomplete, "Required to sign")
        return render(request, "reviews/final.html", {**context, "form": form}, status=400)
    except services.ReviewClosed as closed:
        messages.error(request, str(closed))
    return redirect("reviews:final", reference=review_request.reference)


@require_POST
@_reviewer
def follow_up_answer(request, reference, follow_up_id):
    review_request = selectors.case_get_for_reviewer(user=request.user, reference=reference)
    follow_up = get_object_or_404(FollowUpQuestion, pk=follow_up_id, request=review_request)
    form = FollowUpAnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write an answer before sending it.")
    else:
        try:
            services.follow_up_answer(
                follow_up=follow_up, answer=form.cleaned_data["answer"], actor=request.user
            )
        except (services.ReviewClosed, services.Incomplete) as error:
            messages.error(request, str(error))
        else:
            messages.success(request, "Your answer is added to the opinion.")
    return redirect("reviews:case", reference=reference)


@require_POST
@login_required
def follow_up_ask(request, reference):
    """The family's question about its delivered opinion (up to the configured number)."""
    review_request = review_request_get_for_family(user=request.user, reference=reference)
    form = FollowUpForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, _("Write your question before sending it (up to 2,000 characters).")
        )
        return redirect("intake:request_detail", reference=reference)
    try:
        services.follow_up_ask(
            review_request=review_request,
            question=form.cleaned_data["question"],
            actor=request.user,
        )
    except services.ReviewClosed as closed:
        messages.error(request, str(closed))
    else:
        messages.success(request, _("Your question was sent to the lead reviewer."))
    return redirect("intake:request_detail", reference=reference)
