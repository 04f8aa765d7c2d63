"""A spine-like review read by a panel of three, and the steps that move it on as the people
in it would (through the services)."""

from datetime import date

from accounts.models import Role
from intake.lifecycle import Status
from intake.models import Child, Guardian, ReferringPediatrician
from intake.services import consent_sign, questionnaire_answers_save, review_request_transition
from records.services import document_process, document_upload
from reviews import services
from reviews.models import ReviewerProfile
from tests import samples
from tests.factories import ReviewServiceFactory, review_request, staff_user

OPINION = {
    "agrees_with_diagnosis": "yes",
    "agrees_with_plan": "yes",
    "findings": "Curve of 24 degrees, stable.",
    "recommendations": "Continue bracing; review in 6 months.",
    "answers": "Surgery is not needed now.",
    "next_steps": ["continue_care"],
}
FINAL = {
    "conclusion": "agree",
    "recommendations": "Continue bracing.",
    "answers": "Surgery is not needed now.",
    "dissent": "",
    "family_summary": "The panel agrees with your child's current care.",
}
# What the family told the panel: none of it may appear in an e-mail.
CHILD_FIRST_NAME, CHILD_LAST_NAME = "Maya", "Rivera"
DIAGNOSIS = "Adolescent idiopathic scoliosis"
TREATMENT = "Night-time brace since 2024"
FAMILY_QUESTIONS = "Does she need surgery?"
PEDIATRICIAN_EMAIL = "ortiz@example.org"


def pool_reviewer(service, name, *, available=True, credentials="MD"):
    user = staff_user(Role.REVIEWER, full_name=name)
    profile = ReviewerProfile.objects.create(
        user=user, credentials=credentials, available=available
    )
    profile.services.add(service)
    return user


def send_record(request, family):
    """The family sends a PDF of records (before the review starts); previews are drawn."""
    document = document_upload(
        review_request=request,
        kind="record",
        upload=samples.upload(samples.pdf(), "clinic-notes.pdf"),
        actor=family,
        ip_address="203.0.113.7",
    ).document
    document_process(document_id=document.pk)  # as the worker does after the upload
    return document


def case_in_review(
    *, family, coordinator, service=None, reviewers_required=3, record=False, answers=None
):
    """A paid request the coordinator has confirmed (in review), with the child, the guardian
    and a pediatrician the family agreed may receive the letter. With ``record``, a PDF sent
    before the review started; with ``answers``, the questionnaire answered and the consent
    signed (the service's must be published)."""
    service = service or ReviewServiceFactory(reviewers_required=reviewers_required)
    request = review_request(family=family, service=service)
    Child.objects.create(
        request=request,
        first_name=CHILD_FIRST_NAME,
        last_name=CHILD_LAST_NAME,
        date_of_birth=date(2015, 3, 4),
        sex="female",
        prior_diagnosis=DIAGNOSIS,
        current_treatment=TREATMENT,
        questions=FAMILY_QUESTIONS,
    )
    Guardian.objects.create(
        request=request, legal_name="Jordan Rivera", email=family.email, has_legal_authority=True
    )
    ReferringPediatrician.objects.create(
        request=request,
        name="Dr. Ana Ortiz",
        practice="Ortiz Pediatrics",
        phone="404-555-0111",
        email=PEDIATRICIAN_EMAIL,
        fax="404-555-0112",
        share_opinion=True,
    )
    if answers is not None:
        questionnaire_answers_save(review_request=request, answers=answers)
        consent_sign(
            review_request=request,
            typed_name="Jordan Rivera",
            actor=family,
            ip_address="203.0.113.7",
            user_agent="Test browser",
        )
    for status in (Status.AWAITING_PAYMENT, Status.SUBMITTED):
        request = review_request_transition(review_request=request, to_status=status, actor=family)
    if record:
        send_record(request, family)
    return review_request_transition(
        review_request=request, to_status=Status.IN_REVIEW, actor=coordinator
    )


def submit_opinions(request, reviewers, **fields_of):
    """Each reviewer submits ``OPINION``, changed by ``fields_of[<full name>]`` if given."""
    for reviewer in reviewers:
        fields = {**OPINION, **fields_of.get(reviewer.full_name, {})}
        services.opinion_submit(review_request=request, fields=fields, actor=reviewer)


def sign(request, lead, **changes):
    """The lead signs ``FINAL`` (with ``changes``) under their own name."""
    return services.final_opinion_sign(
        review_request=request,
        fields={**FINAL, **changes},
        signed_name=lead.full_name,
        actor=lead,
    )


def deliver(request, coordinator, channel=""):
    return services.opinion_deliver(
        review_request=request,
        outreach_method="call",
        outreach_note="Spoke with the mother.",
        pediatrician_channel=channel,
        actor=coordinator,
    )
