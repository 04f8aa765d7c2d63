"""The family's wizard: its steps, their order, and what each still misses.

Two steps (referral and documents) are pages of the records app; they are named here by URL
only, so intake never imports records.
"""

from dataclasses import dataclass
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from intake import services
from intake.lifecycle import Status
from intake.models import ReviewRequest
from intake.selectors import review_request_get_for_family, submission_checklist


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    url_name: str


STEPS = (
    Step("guardian", _("You"), "intake:wizard_guardian"),
    Step("child", _("Your child"), "intake:wizard_child"),
    Step("questionnaire", _("Medical history"), "intake:wizard_questionnaire"),
    Step("consent", _("Financial consent"), "intake:wizard_consent"),
    Step("referral", _("Referral"), "records:wizard_referral"),
    Step("documents", _("Records and imaging"), "records:wizard_documents"),
    Step("review", _("Review and send"), "intake:wizard_review"),
)
SLUGS = [step.slug for step in STEPS]


def step_url(review_request: ReviewRequest, slug: str) -> str:
    step = STEPS[SLUGS.index(slug)]
    return reverse(step.url_name, args=[review_request.reference])


def progress(review_request: ReviewRequest, current: str) -> dict:
    """Template context for the progress indicator: each step with what it still misses."""
    checklist = submission_checklist(review_request=review_request)
    steps = []
    for step in STEPS:
        missing = [
            m
            for item in checklist
            if item.step == step.slug and not item.done
            for m in item.missing
        ]
        done = all(item.done for item in checklist) if step.slug == "review" else not missing
        steps.append(
            {
                "slug": step.slug,
                "title": step.title,
                "number": len(steps) + 1,
                "url": step_url(review_request, step.slug),
                "missing": missing,
                "done": done,
                "current": step.slug == current,
            }
        )
    index = SLUGS.index(current)
    return {
        "steps": steps,
        "checklist": checklist,
        "current_step": steps[index],
        "previous_url": steps[index - 1]["url"] if index > 0 else None,
        "next_url": steps[index + 1]["url"] if index + 1 < len(steps) else None,
    }


def destination(review_request: ReviewRequest, current: str, go: str) -> str:
    """Where the Back, Continue or a step button of the progress indicator leads, after the
    step was saved."""
    index = SLUGS.index(current)
    if go == "back" and index > 0:
        return step_url(review_request, SLUGS[index - 1])
    if go.startswith("step:") and go[5:] in SLUGS:
        return step_url(review_request, go[5:])
    if go == "stay":
        return step_url(review_request, current)
    return step_url(review_request, SLUGS[min(index + 1, len(SLUGS) - 1)])


# --- Helpers shared by the step views of intake and records -------------------------------


def family_draft(view):
    """For a wizard step: a request the signed-in person is a guardian of (its family, or a
    second guardian it was shared with), passed to the view, while it is a draft. Once sent,
    they are taken to its status page; anyone else gets a 404."""

    @login_required
    @wraps(view)
    def step(request, reference, *args, **kwargs):
        review_request = review_request_get_for_family(user=request.user, reference=reference)
        if review_request.status != Status.DRAFT:
            messages.info(
                request, _("This request has been sent, so it can no longer be changed here.")
            )
            return redirect("intake:request_detail", reference=reference)
        return view(request, review_request, *args, **kwargs)

    return step


def safe_path(request, target: str) -> str:
    """``target`` if it is a path on this site, else "". Anything else, a bare word too
    (``redirect`` would take it for a view's name), is ignored."""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def redirect_back(request, review_request):
    """Back to the page a form came from (its ``next``: a path on this site), or the status
    page."""
    target = safe_path(request, request.POST.get("next", ""))
    if target:
        return redirect(target)
    return redirect("intake:request_detail", reference=review_request.reference)


def resume_url(review_request: ReviewRequest) -> str:
    """Where "continue" takes a family back into its draft: the first step that still
    misses something, or the review page once nothing does."""
    unfinished = {
        item.step for item in submission_checklist(review_request=review_request) if not item.done
    }
    for step in STEPS:
        if step.slug in unfinished:
            return step_url(review_request, step.slug)
    return step_url(review_request, "review")


def add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


# The id of a step's form: the progress indicator's buttons submit it too.
STEP_FORM_ID = "step-form"


def run_step(
    request, review_request, slug, form, save, template="intake/wizard/step.html", **extra
):
    """Save a valid step and go where the button asked; otherwise show the step again with
    every value as typed and each problem next to its field."""
    if request.method == "POST" and form.is_valid():
        try:
            save(form.cleaned_data)
        except ValidationError as error:
            add_errors(form, error)
        except services.RequestLocked:
            return redirect("intake:request_detail", reference=review_request.reference)
        else:
            return redirect(destination(review_request, slug, request.POST.get("go", "next")))
    return render_step(request, review_request, slug, form, template, **extra)


def render_step(
    request, review_request, slug, form, template="intake/wizard/step.html", status=200, **extra
):
    """The step's page: its form (values as typed, problems beside them) and the steps."""
    context = {
        "review_request": review_request,
        "form": form,
        "step_form_id": STEP_FORM_ID,
        **progress(review_request, slug),
        **extra,
    }
    return render(request, template, context, status=status)
