"""The family's wizard: one view per step of a draft request (the records step is in
``records.views``), each saving through the services and going where its button asked."""

from django import forms
from django.contrib import messages
from django.forms.models import model_to_dict
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.request_info import client_ip, user_agent
from intake import services, wizard
from intake.forms import (
    ChildForm,
    ConsentForm,
    GuardianForm,
    QuestionnaireForm,
)
from intake.models import Child, Guardian
from intake.selectors import (
    consent_text_current,
    questionnaire_current,
    request_summary,
)


def _details_initial(model, review_request) -> dict:
    details = model.objects.filter(request=review_request).first()
    return model_to_dict(details, exclude=["id", "request", "updated_at"]) if details else {}


@wizard.family_draft
def wizard_resume(request, review_request):
    """ "Not sent yet: continue": the first step that still misses something, or the review
    page when nothing does."""
    return redirect(wizard.resume_url(review_request))


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

    go = request.POST.get("go", "next")
    untouched = not (request.POST.get("typed_name", "").strip() or request.POST.get("agree"))
    if request.method == "POST" and not signature and untouched and go != "stay":
        # Nothing typed, nothing to sign: the parent moves on as from any other step (the
        # step list and the review page show the consent still missing).
        return redirect(wizard.destination(review_request, "consent", go))
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
