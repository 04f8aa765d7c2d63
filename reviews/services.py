"""Every write to panels, opinions, the final letter, its delivery and follow-up questions.

Each service locks the request row first (``_lock_request``), so two people acting on one
case at once happen one after the other, and the second sees what the first left."""

import base64

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import User
from intake.lifecycle import Status
from intake.models import DocumentKind, ReferringPediatrician, ReviewRequest
from intake.services import names_match, review_request_notify_family, review_request_transition
from notifications.services import message_queue
from records.models import AccessLog
from records.services import (
    access_log_write,
    document_create_generated,
    document_read_verified,
    generated_bytes_discard,
    generated_bytes_store,
)
from reviews.key_images import key_image_figures
from reviews.letter import letter_render
from reviews.models import (
    DeclineReason,
    Delivery,
    FinalOpinion,
    FollowUpQuestion,
    Opinion,
    PediatricianChannel,
    ReviewAssignment,
)
from reviews.selectors import (
    assignment_for,
    coordinator_recipients,
    credentials_of,
    letter_content,
    member_dissents,
    panel_complete,
    panel_eligible,
    panel_members,
)


class NotAReviewer(ValueError):
    pass


class PanelError(ValueError):
    """The panel asked for breaks a rule; the message says which, for the coordinator."""


class ReviewClosed(ValueError):
    """The request is not (or no longer) in the state this step needs."""


class Incomplete(ValueError):
    """Required answers are missing: ``missing`` names the fields (their labels)."""

    def __init__(self, missing: dict[str, str]):
        self.missing = missing
        super().__init__("Some answers are missing.")


def _lock_request(review_request: ReviewRequest) -> ReviewRequest:
    return (
        ReviewRequest.objects.select_for_update(of=("self",))
        .select_related("service__department", "family")
        .get(pk=review_request.pk)
    )


# --- Panels ------------------------------------------------------------------------------


def review_assignment_add(
    *,
    review_request: ReviewRequest,
    reviewer: User,
    is_lead: bool = False,
    actor: User | None = None,
) -> ReviewAssignment:
    """Put ``reviewer`` on the request's panel; they see the request from their next page."""
    if not (reviewer.is_reviewer and reviewer.is_active):
        raise NotAReviewer(f"{reviewer} is not an active reviewer.")
    return ReviewAssignment.objects.create(
        request=review_request, reviewer=reviewer, is_lead=is_lead, assigned_by=actor
    )


def review_assignment_remove(
    *, assignment: ReviewAssignment, actor: User | None = None, reason: str = ""
) -> None:
    """Take a reviewer off a panel; their very next request no longer reaches the case."""
    ReviewAssignment.objects.filter(pk=assignment.pk, removed_at__isnull=True).update(
        removed_at=timezone.now(), removed_by=actor, removal_reason=reason, is_lead=False
    )


def panel_set(
    *,
    review_request: ReviewRequest,
    reviewers: list[User],
    lead: User,
    actor: User,
    reason: str = "",
) -> list[ReviewAssignment]:
    """Make the request's panel exactly ``reviewers`` with ``lead`` leading it: the first
    assignment and every change after it. Guarantees: exactly the service's number of
    reviewers, all eligible (in the service's pool, active); anyone taken off is removed
    with ``reason`` (required then) and loses access on their next request; only while the
    review runs. Returns the active panel."""
    reason = reason.strip()
    with transaction.atomic():
        locked = _lock_request(review_request)
        if locked.status != Status.IN_REVIEW:
            raise ReviewClosed(f"{locked.reference} is not in review: its panel cannot change.")
        _check_panel(locked, reviewers, lead)
        current = {m.reviewer_id: m.assignment for m in panel_members(review_request=locked)}
        chosen = {reviewer.pk for reviewer in reviewers}
        leaving = [a for reviewer_id, a in current.items() if reviewer_id not in chosen]
        if leaving and not reason:
            raise PanelError("Say why reviewers are taken off the panel (it is kept on record).")
        for assignment in leaving:
            review_assignment_remove(assignment=assignment, actor=actor, reason=reason)
        # The lead's flag moves first: the database allows one active lead per request.
        ReviewAssignment.objects.filter(
            request=locked, removed_at__isnull=True, is_lead=True
        ).exclude(reviewer=lead).update(is_lead=False)
        for reviewer in sorted(reviewers, key=lambda r: r.pk):
            if reviewer.pk not in current:
                review_assignment_add(
                    review_request=locked,
                    reviewer=reviewer,
                    is_lead=reviewer.pk == lead.pk,
                    actor=actor,
                )
                _tell_reviewer(locked, reviewer, "review_assigned")
        ReviewAssignment.objects.filter(
            request=locked, removed_at__isnull=True, reviewer=lead
        ).update(is_lead=True)
        if lead.pk in current and not current[lead.pk].is_lead:
            _tell_lead_if_complete(locked)  # a new lead of a panel already done
        return list(panel_members(review_request=locked))


def _check_panel(review_request: ReviewRequest, reviewers: list[User], lead: User) -> None:
    required = review_request.service.reviewers_required
    if len({reviewer.pk for reviewer in reviewers}) != required:
        raise PanelError(
            f"{review_request.service.name} is read by {required} reviewer"
            f"{'s' if required != 1 else ''}: choose exactly {required}."
        )
    if lead.pk not in {reviewer.pk for reviewer in reviewers}:
        raise PanelError("The lead must be one of the panel's reviewers.")
    eligible = set(
        panel_eligible(review_request=review_request, include_unavailable=True).values_list(
            "pk", flat=True
        )
    )
    if outsiders := [str(r) for r in reviewers if r.pk not in eligible]:
        raise PanelError(
            f"Not in the pool of {review_request.service.name}: {', '.join(outsiders)}."
        )


def assignment_decline(
    *, assignment: ReviewAssignment, reason: str, note: str, actor: User
) -> None:
    """The reviewer steps off a case (conflict of interest, unavailable) before writing an
    opinion. Their access ends now and the coordinators are alerted to replace them."""
    note = note.strip()
    if reason not in DeclineReason.values:
        raise PanelError("Choose why you decline.")
    if reason == DeclineReason.OTHER and not note:
        raise PanelError("Say why you decline.")
    with transaction.atomic():
        locked = _lock_request(assignment.request)
        current = ReviewAssignment.objects.filter(
            pk=assignment.pk, reviewer=actor, removed_at__isnull=True
        ).first()
        if current is None or locked.status != Status.IN_REVIEW:
            raise ReviewClosed("This assignment is no longer open.")
        if current.opinions.filter(submitted_at__isnull=False).exists():
            raise ReviewClosed("You have submitted an opinion; ask the coordinator instead.")
        ReviewAssignment.objects.filter(pk=current.pk).update(
            removed_at=timezone.now(),
            removed_by=actor,
            removal_reason=note,
            decline_reason=reason,
            is_lead=False,
        )
        _alert_coordinators(locked, "assignment_declined")


def _alert_coordinators(review_request: ReviewRequest, template: str) -> None:
    path = reverse("admin:intake_reviewrequest_change", args=[review_request.pk])
    for address in coordinator_recipients(department=review_request.service.department):
        message_queue(
            to=address,
            template=template,
            context={
                "reference": review_request.reference,
                "service": review_request.service.name,
                "admin_url": f"{settings.SITE_URL}{path}",
            },
        )


# --- Individual opinions -------------------------------------------------------------------

OPINION_FIELDS = (
    "agrees_with_diagnosis",
    "agrees_with_plan",
    "findings",
    "recommendations",
    "answers",
    "next_steps",
    "next_steps_note",
    "amendment_reason",
)


def _open_assignment(review_request: ReviewRequest, actor: User) -> ReviewAssignment:
    """The actor's active assignment on a request still in review (call with the row locked)."""
    assignment = assignment_for(review_request=review_request, user=actor)
    if assignment is None or review_request.status != Status.IN_REVIEW:
        raise ReviewClosed("This review is closed: the opinion can no longer change.")
    return assignment


def opinion_draft_save(*, review_request: ReviewRequest, fields: dict, actor: User) -> Opinion:
    """Keep what the reviewer typed so far in their draft (the first version, or the open
    amendment). A submitted version is never changed: without an open draft this raises
    ``ReviewClosed``. Safe to call as often as the page autosaves."""
    with transaction.atomic():
        locked = _lock_request(review_request)
        assignment = _open_assignment(locked, actor)
        draft = assignment.opinions.filter(submitted_at__isnull=True).first()
        if draft is None:
            if assignment.opinions.exists():
                raise ReviewClosed("Your opinion is submitted; start an amendment to change it.")
            draft = Opinion(assignment=assignment, version=1)
        for name in OPINION_FIELDS:
            if name in fields:
                setattr(draft, name, fields[name])
        draft.updated_at = timezone.now()
        if draft.pk is None:
            draft.save(force_insert=True)
        else:
            draft.save(update_fields=[*[n for n in OPINION_FIELDS if n in fields], "updated_at"])
        return draft


def opinion_submit(*, review_request: ReviewRequest, fields: dict, actor: User) -> Opinion:
    """Save and submit the reviewer's draft. Refused (``Incomplete``) while a required answer
    is blank; an amendment must say why. Once submitted the version is final. When the last
    panel member submits, the lead is told the final opinion can be written."""
    with transaction.atomic():
        draft = opinion_draft_save(review_request=review_request, fields=fields, actor=actor)
        missing = _opinion_missing(draft)
        # Refused, the typed answers are still kept: nothing is raised inside this block,
        # which would roll the draft back with it.
        if not missing:
            draft.submitted_at = timezone.now()
            draft.save(update_fields=["submitted_at"])
            if draft.version == 1:  # an amendment does not complete the panel again
                _tell_lead_if_complete(review_request)
    if missing:
        raise Incomplete(missing)
    return draft


def _opinion_missing(draft: Opinion) -> dict[str, str]:
    missing = {
        name: str(Opinion._meta.get_field(name).verbose_name)
        for name in Opinion.REQUIRED
        if not getattr(draft, name)
    }
    if draft.version > 1 and not draft.amendment_reason.strip():
        missing["amendment_reason"] = "why you amend your opinion"
    return missing


def _tell_lead_if_complete(review_request: ReviewRequest) -> None:
    """Once every member has submitted, the lead can write the final opinion. A panel
    without a lead (the lead declined) waits for the coordinator to name one."""
    members = panel_members(review_request=review_request)
    lead = next((member for member in members if member.is_lead), None)
    if lead is not None and panel_complete(review_request=review_request, members=members):
        _tell_reviewer(review_request, lead.reviewer, "panel_complete")


def opinion_amend(*, review_request: ReviewRequest, actor: User) -> Opinion:
    """Open the next version of the reviewer's submitted opinion as a draft, starting from
    the last one. Only before the final letter is signed (the letter quotes the panel)."""
    with transaction.atomic():
        locked = _lock_request(review_request)
        assignment = _open_assignment(locked, actor)
        if draft := assignment.opinions.filter(submitted_at__isnull=True).first():
            return draft
        last = assignment.opinions.order_by("-version").first()
        if last is None:
            raise ReviewClosed("There is no submitted opinion to amend yet.")
        copied = {name: getattr(last, name) for name in OPINION_FIELDS}
        copied["amendment_reason"] = ""
        return Opinion.objects.create(assignment=assignment, version=last.version + 1, **copied)


def _tell_reviewer(review_request: ReviewRequest, reviewer: User, template: str) -> None:
    path = reverse("reviews:case", args=[review_request.reference])
    message_queue(
        to=reviewer.email,
        template=template,
        context={
            "reference": review_request.reference,
            "service": review_request.service.name,
            "case_url": f"{settings.SITE_URL}{path}",
        },
    )


# --- The final opinion ---------------------------------------------------------------------

FINAL_FIELDS = ("conclusion", "recommendations", "answers", "dissent", "family_summary")
FINAL_REQUIRED = ("conclusion", "recommendations", "answers", "family_summary")


def _lead_draft(locked: ReviewRequest, actor: User) -> FinalOpinion:
    assignment = _open_assignment(locked, actor)
    if not assignment.is_lead:
        raise ReviewClosed("Only the panel's lead writes the final opinion.")
    if not panel_complete(review_request=locked, members=panel_members(review_request=locked)):
        raise ReviewClosed(
            "The panel must be complete and every member must submit an opinion first."
        )
    final, _ = FinalOpinion.objects.get_or_create(request=locked, defaults={"lead": actor})
    if final.signed_at is not None:
        raise ReviewClosed("The final opinion is signed.")
    return final


def final_opinion_save(*, review_request: ReviewRequest, fields: dict, actor: User) -> FinalOpinion:
    """Keep the lead's draft of the panel's letter. Only the active lead, only once every
    member has submitted, only until it is signed."""
    with transaction.atomic():
        locked = _lock_request(review_request)
        final = _lead_draft(locked, actor)
        for name in FINAL_FIELDS:
            if name in fields:
                setattr(final, name, fields[name].strip())
        final.lead = actor
        final.updated_at = timezone.now()
        final.save(update_fields=[*[n for n in FINAL_FIELDS if n in fields], "lead", "updated_at"])
        return final


def final_opinion_sign(
    *, review_request: ReviewRequest, fields: dict, signed_name: str, actor: User
) -> FinalOpinion:
    """Sign the panel's letter: it is checked complete (with the members' dissent written
    when one disagrees with the conclusion), rendered as a PDF, stored as a document with
    its checksum, and the request moves to ``opinion_ready``. All of it or nothing: if any
    step fails, no signature, no document and no stored bytes remain."""
    final = final_opinion_save(review_request=review_request, fields=fields, actor=actor)
    _check_final(final, signed_name, actor)
    signed_at = timezone.now()
    final.signed_name = signed_name.strip()
    final.signed_credentials = credentials_of(actor)
    final.signed_at = signed_at
    written = letter_content(final_opinion=final)
    figures = key_image_figures(notes=written.key_images)
    content = letter_render(content=written, figures=figures)
    key = generated_bytes_store(content=content)
    try:
        with transaction.atomic():
            locked = _lock_request(review_request)
            current = _lead_draft(locked, actor)
            current.signed_name, current.signed_credentials = (
                final.signed_name,
                final.signed_credentials,
            )
            current.signed_at = signed_at
            # The letter was written without the lock: a member may have amended their
            # opinion (or the lead saved the draft elsewhere) since. Sign only what it says,
            # checked again now that nothing can change: an amendment made between the first
            # check and the writing may make a dissent required.
            if letter_content(final_opinion=current) != written:
                raise ReviewClosed(
                    "The letter or a member's opinion changed while you signed: read it "
                    "again and sign."
                )
            _check_final(current, signed_name, actor)
            current.letter = document_create_generated(
                review_request=locked,
                kind=DocumentKind.OPINION,
                name=f"Second opinion {locked.reference}.pdf",
                key=key,
                content=content,
                actor=actor,
            )
            current.save(update_fields=["letter", "signed_name", "signed_credentials", "signed_at"])
            review_request_transition(
                review_request=locked, to_status=Status.OPINION_READY, actor=actor
            )
    except BaseException:
        generated_bytes_discard(key=key)
        raise
    return current


def _check_final(final: FinalOpinion, signed_name: str, actor: User) -> None:
    missing = {
        name: str(FinalOpinion._meta.get_field(name).verbose_name)
        for name in FINAL_REQUIRED
        if not getattr(final, name)
    }
    if member_dissents(final_opinion=final) and not final.dissent:
        missing["dissent"] = "the members' dissent (a member disagrees with the conclusion)"
    if not signed_name.strip():
        missing["signed_name"] = "your name as signed"
    elif not names_match(signed_name, actor.full_name):
        missing["signed_name"] = f"your name as signed, exactly “{actor.full_name}”"
    if missing:
        raise Incomplete(missing)


# --- Delivery and follow-up questions ------------------------------------------------------


def opinion_deliver(
    *,
    review_request: ReviewRequest,
    outreach_method: str,
    outreach_note: str,
    pediatrician_channel: str,
    actor: User,
) -> Delivery:
    """Record that the coordinator reached the family and deliver the opinion: the request
    moves to ``delivered`` (the family is told by e-mail, without medical content; the
    status page shows the summary and the letter). With the family's consent the letter
    goes to the referring pediatrician by e-mail (attached) or is recorded as faxed."""
    with transaction.atomic():
        locked = _lock_request(review_request)
        if locked.status != Status.OPINION_READY:
            raise ReviewClosed(f"{locked.reference} has no opinion waiting to be delivered.")
        pediatrician = ReferringPediatrician.objects.filter(request=locked).first()
        _check_sharing(pediatrician, pediatrician_channel)
        delivery = Delivery.objects.create(
            request=locked,
            coordinator=actor,
            outreach_method=outreach_method,
            outreach_note=outreach_note.strip(),
            pediatrician_channel=pediatrician_channel,
        )
        review_request_transition(review_request=locked, to_status=Status.DELIVERED, actor=actor)
        if pediatrician_channel == PediatricianChannel.EMAIL:
            _send_to_pediatrician(locked, pediatrician, actor)
        return delivery


def _check_sharing(pediatrician: ReferringPediatrician | None, channel: str) -> None:
    if not channel:
        return
    if pediatrician is None or not pediatrician.share_opinion:
        raise PanelError("The family did not agree to share the letter with the pediatrician.")
    if channel == PediatricianChannel.EMAIL and not pediatrician.email:
        raise PanelError("The pediatrician has no e-mail address on file: fax it instead.")
    if channel == PediatricianChannel.FAX and not pediatrician.fax:
        raise PanelError("The pediatrician has no fax number on file.")


def _send_to_pediatrician(review_request: ReviewRequest, pediatrician, actor: User) -> None:
    """E-mail the letter to the pediatrician; the read is logged like any other (action
    "sent"), in the same transaction as the message."""
    letter = review_request.final_opinion.letter
    with document_read_verified(document=letter) as content:
        pdf = content.read()
    access_log_write(
        user=actor,
        review_request_id=review_request.pk,
        document_id=letter.pk,
        action=AccessLog.Action.SEND,
        outcome=AccessLog.Outcome.ALLOWED,
        ip_address="",
    )
    message_queue(
        to=pediatrician.email,
        template="opinion_to_pediatrician",
        context={"reference": review_request.reference, "hospital_phone": settings.HOSPITAL_PHONE},
        attachments=[
            {
                "filename": letter.original_name,
                "content_base64": base64.b64encode(pdf).decode("ascii"),
                "mimetype": "application/pdf",
            }
        ],
    )


def follow_up_ask(*, review_request: ReviewRequest, question: str, actor: User) -> FollowUpQuestion:
    """The family asks the lead a question about the delivered opinion, up to
    ``REVIEWS_FOLLOW_UP_LIMIT`` questions per request. The lead is told by e-mail."""
    question = question.strip()
    if not question:
        raise Incomplete({"question": "your question"})
    with transaction.atomic():
        locked = _lock_request(review_request)
        if locked.status != Status.DELIVERED or locked.family_id != actor.pk:
            raise ReviewClosed(gettext("Questions can be asked once the opinion is delivered."))
        if locked.follow_ups.count() >= settings.REVIEWS_FOLLOW_UP_LIMIT:
            raise ReviewClosed(
                gettext(
                    "You have asked the %(limit)s questions this review includes. Your "
                    "coordinator can help with more."
                )
                % {"limit": settings.REVIEWS_FOLLOW_UP_LIMIT}
            )
        follow_up = FollowUpQuestion.objects.create(
            request=locked, asked_by=actor, question=question
        )
        _tell_reviewer(locked, locked.final_opinion.lead, "follow_up_asked")
        return follow_up


def follow_up_answer(*, follow_up: FollowUpQuestion, answer: str, actor: User) -> FollowUpQuestion:
    """The lead answers a follow-up question once; the answer is an addendum to the opinion
    on the family's status page, and the family is told (without the answer) by e-mail."""
    answer = answer.strip()
    if not answer:
        raise Incomplete({"answer": "your answer"})
    with transaction.atomic():
        locked = _lock_request(follow_up.request)
        current = FollowUpQuestion.objects.select_for_update().get(pk=follow_up.pk)
        if current.answered_at is not None:
            raise ReviewClosed("This question has been answered.")
        if locked.final_opinion.lead_id != actor.pk:
            raise ReviewClosed("Only the lead reviewer answers follow-up questions.")
        current.answer, current.answered_by, current.answered_at = answer, actor, timezone.now()
        current.save(update_fields=["answer", "answered_by", "answered_at"])
        review_request_notify_family(review_request=locked)
        return current
