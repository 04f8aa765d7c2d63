"""Every write to the catalogue and to review requests."""

import secrets
import unicodedata
from dataclasses import asdict
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import dateformat, timezone

from accounts.models import User, normalize_email
from intake.eligibility import EligibilityAnswers, check_eligibility
from intake.lifecycle import NOTE_REQUIRED, TRANSITIONS, Status, due_dates, family_notified
from intake.links import invitation_url
from intake.models import (
    Child,
    ConsentSignature,
    ConsentText,
    Guardian,
    Invitation,
    InvitationReminder,
    Question,
    Questionnaire,
    QuestionnaireAnswers,
    ReferringPediatrician,
    RequestEvent,
    ReviewRequest,
    ReviewService,
    SharedAccess,
)
from intake.selectors import (
    consent_text_current,
    is_guardian,
    questionnaire_current,
    shared_access_for,
    submission_checklist,
)
from intake.signals import request_moved
from notifications.services import message_queue

# No 0/O, 1/I: a reference is read aloud on the phone. 32 symbols, 8 of them: 40 bits.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


class InvalidTransition(Exception):
    """The move is not allowed from the request's current status (or lacks a required note).
    The message is safe to show staff: it names the reference and statuses, nothing else."""


class RequestLocked(Exception):
    """The request has been sent: the wizard can no longer change it."""


class IncompleteRequest(Exception):
    """Submission refused: ``missing`` lists the checklist items still to do."""

    def __init__(self, missing):
        self.missing = missing
        super().__init__(f"{len(missing)} item(s) are still missing.")


def new_reference() -> str:
    symbols = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"SO-{symbols[:4]}-{symbols[4:]}"


def review_request_create(
    *, service: ReviewService, family: User | None, created_by: User | None = None
) -> ReviewRequest:
    """Start a draft request for ``family`` with a fresh unguessable reference. A coordinator
    (``created_by``) may start one whose family has no account yet (``family=None``)."""
    created_by = created_by or family
    for _ in range(5):
        try:
            with transaction.atomic():
                request = ReviewRequest.objects.create(
                    reference=new_reference(), service=service, family=family, created_by=created_by
                )
                RequestEvent.objects.create(
                    request=request, to_status=Status.DRAFT, actor=created_by
                )
                return request
        except IntegrityError:
            # A reference collision (one in a trillion): draw again.
            continue
    raise RuntimeError("Could not draw an unused reference.")


def review_request_transition(
    *,
    review_request: ReviewRequest,
    to_status: Status,
    actor: User | None,
    note: str = "",
    only_moves: frozenset[tuple[Status, Status]] | None = None,
) -> ReviewRequest:
    """Move a request to ``to_status`` if ``lifecycle.TRANSITIONS`` allows it, and return it.
    ``only_moves`` narrows the legal moves further (e.g. to those a coordinator makes by hand).

    Guarantees: the row is locked first, so concurrent moves of one request happen one after
    the other and the later one judges the status the earlier one left (raising
    ``InvalidTransition`` if its move is no longer allowed); the milestone is stamped, the
    review clock starts, pauses and resumes; an event is appended. All of it, or nothing.
    """
    to_status = Status(to_status)
    note = note.strip()
    with transaction.atomic():
        locked = (
            ReviewRequest.objects.select_for_update(of=("self",))
            .select_related("service__department")
            .get(pk=review_request.pk)
        )
        from_status = Status(locked.status)
        _check_move(locked, from_status, to_status, note, only_moves)
        now = timezone.now()
        changed = _move_clock(locked, from_status, to_status, now)
        locked.status = to_status
        stamp = f"{to_status.value}_at"
        if to_status != Status.SUBMITTED or locked.submitted_at is None:
            setattr(locked, stamp, now)
            changed.append(stamp)
        if to_status == Status.AWAITING_PAYMENT and locked.fee_cents is None:
            # The fee is fixed when the request is sent: a later price change never touches it.
            locked.fee_cents, locked.currency = locked.service.fee_cents, locked.service.currency
            changed += ["fee_cents", "currency"]
        locked.save(update_fields=["status", *changed])
        RequestEvent.objects.create(
            request=locked,
            from_status=from_status,
            to_status=to_status,
            actor=actor,
            note=note,
            created_at=now,
        )
        if family_notified(from_status, to_status):
            review_request_notify_family(review_request=locked)
        request_moved.send(
            sender=ReviewRequest,
            review_request=locked,
            from_status=from_status,
            to_status=to_status,
        )
    return locked


def review_request_notify_family(*, review_request: ReviewRequest) -> None:
    """Tell the family something changed on its request; the e-mail says where to look,
    never what (also used by other apps, e.g. when a follow-up question is answered)."""
    if review_request.family is None:
        return  # a coordinator's draft the family has not joined yet: they are on the phone
    path = reverse("intake:request_detail", args=[review_request.reference])
    message_queue(
        to=review_request.family.email,
        template="request_update",
        context={
            "reference": review_request.reference,
            "status_url": f"{settings.SITE_URL}{path}",
        },
    )


def _check_move(request, from_status: Status, to_status: Status, note: str, only_moves) -> None:
    if to_status not in TRANSITIONS[from_status] or (
        only_moves is not None and (from_status, to_status) not in only_moves
    ):
        raise InvalidTransition(
            f"{request.reference} is {from_status.label.lower()}: "
            f"it cannot be moved to {to_status.label.lower()}."
        )
    if to_status == Status.REFUNDED and request.submitted_at is None:
        raise InvalidTransition(f"{request.reference} was never paid: there is nothing to refund.")
    if to_status in NOTE_REQUIRED and not note:
        raise InvalidTransition(
            f"Moving {request.reference} to {to_status.label.lower()} needs a note saying why."
        )


def _move_clock(request: ReviewRequest, from_status: Status, to_status: Status, now) -> list[str]:
    """Start the clock at the first submission; push the due dates back by the time spent
    waiting on the family. Returns the fields it changed."""
    if to_status != Status.SUBMITTED:
        return []
    if request.submitted_at is None:
        service = request.service
        request.submitted_at = now
        request.due_target_at, request.due_limit_at = due_dates(
            now,
            target_days=service.target_days,
            limit_days=service.limit_days,
            time_zone=service.department.time_zone,
        )
        return ["submitted_at", "due_target_at", "due_limit_at"]
    if from_status == Status.NEEDS_INFO:
        paused = now - request.needs_info_at
        request.due_target_at += paused
        request.due_limit_at += paused
        return ["due_target_at", "due_limit_at"]
    return []


def questionnaire_answers_save(
    *, review_request: ReviewRequest, answers: dict
) -> QuestionnaireAnswers:
    """Save some or all of a draft request's answers; others already given are kept, and an
    empty answer clears one. The first save ties the request to the current published
    version. Any unknown question or invalid answer raises a ValidationError naming each
    question (by key) and saves nothing. ``completed_at`` says whether every required
    question is answered."""
    with transaction.atomic():
        request = ReviewRequest.objects.select_for_update().get(pk=review_request.pk)
        if request.status != Status.DRAFT:
            raise ValidationError(
                "The questionnaire can be changed only before the request is sent."
            )
        saved = QuestionnaireAnswers.objects.filter(request=request).first()
        questionnaire = (
            saved.questionnaire if saved else questionnaire_current(service=request.service)
        )
        if questionnaire is None:
            raise ValidationError("This review's questionnaire is not published yet.")
        questions = {question.key: question for question in questionnaire.questions.all()}
        merged = {**(saved.answers if saved else {}), **_clean_answers(questions, answers)}
        merged = {key: value for key, value in merged.items() if value is not None}
        complete = all(key in merged for key, q in questions.items() if q.required)
        now = timezone.now()
        answer_set, _ = QuestionnaireAnswers.objects.update_or_create(
            request=request,
            defaults={
                "questionnaire": questionnaire,
                "answers": merged,
                "updated_at": now,
                "completed_at": ((saved and saved.completed_at) or now) if complete else None,
            },
        )
    return answer_set


def _clean_answers(questions: dict[str, Question], answers: dict) -> dict:
    cleaned, errors = {}, {}
    for key, value in answers.items():
        if key not in questions:
            errors[key] = ["This question is not on the questionnaire."]
            continue
        try:
            cleaned[key] = questions[key].clean_answer(value)
        except ValidationError as error:
            errors[key] = error.messages
    if errors:
        raise ValidationError(errors)
    return cleaned


def _next_version(queryset) -> int:
    return (queryset.aggregate(latest=Max("version"))["latest"] or 0) + 1


def questionnaire_new_version(*, service: ReviewService) -> Questionnaire:
    """A new draft version of the service's questionnaire, starting as a copy of the latest
    one. Published versions are never edited; this is how a questionnaire changes."""
    with transaction.atomic():
        ReviewService.objects.select_for_update().get(pk=service.pk)
        previous = service.questionnaires.order_by("-version").first()
        draft = Questionnaire.objects.create(
            service=service, version=_next_version(service.questionnaires)
        )
        if previous is not None:
            Question.objects.bulk_create(
                Question(
                    questionnaire=draft,
                    position=question.position,
                    key=question.key,
                    text=question.text,
                    help_text=question.help_text,
                    kind=question.kind,
                    choices=question.choices,
                    required=question.required,
                )
                for question in previous.questions.order_by("position", "pk")
            )
    return draft


def questionnaire_publish(*, questionnaire: Questionnaire) -> Questionnaire:
    """Publish a draft: from now on new requests answer this version, and it is frozen."""
    if questionnaire.is_published:
        return questionnaire
    questions = list(questionnaire.questions.all())
    if not questions:
        raise ValidationError("A questionnaire needs at least one question before it is published.")
    for question in questions:
        question.full_clean()
    questionnaire.published_at = timezone.now()
    questionnaire.save(update_fields=["published_at"])
    return questionnaire


def consent_text_new_version(*, title: str, body: str) -> ConsentText:
    """A new draft version of the financial consent. Two admins racing for the same number
    is refused by the unique version, not silently merged."""
    return ConsentText.objects.create(
        version=_next_version(ConsentText.objects.all()), title=title, body=body
    )


def consent_text_publish(*, consent_text: ConsentText) -> ConsentText:
    """Publish a draft consent: families sign this version from now on, and it is frozen."""
    if not consent_text.is_published:
        consent_text.published_at = timezone.now()
        consent_text.save(update_fields=["published_at"])
    return consent_text


# --- The family's wizard -----------------------------------------------------------------


def review_request_start(
    *, service: ReviewService, family: User, eligibility: dict
) -> ReviewRequest:
    """A draft for a family that passed the eligibility check, with the answers recorded and
    the guardian step pre-filled from them and from the account."""
    with transaction.atomic():
        request = review_request_create(service=service, family=family)
        request.eligibility = eligibility
        request.save(update_fields=["eligibility"])
        Guardian.objects.create(
            request=request,
            legal_name=family.full_name,
            email=family.email,
            state=eligibility.get("state", ""),
            zip_code=eligibility.get("zip_code", ""),
        )
    return request


def _lock_draft(review_request: ReviewRequest) -> ReviewRequest:
    request = ReviewRequest.objects.select_for_update().get(pk=review_request.pk)
    if request.status != Status.DRAFT:
        raise RequestLocked(f"{request.reference} has been sent and can no longer be changed here.")
    return request


def _details_save(model, review_request: ReviewRequest, fields: dict):
    with transaction.atomic():
        request = _lock_draft(review_request)
        details, _ = model.objects.update_or_create(
            request=request, defaults={**fields, "updated_at": timezone.now()}
        )
    return details


def guardian_save(*, review_request: ReviewRequest, fields: dict) -> Guardian:
    """Save the guardian step as typed (blank fields allowed: they show as missing). Once
    the consent is signed, the name on it and the authority statement cannot change; this is
    checked under the row lock, so a signing in another tab cannot slip in between."""
    with transaction.atomic():
        request = _lock_draft(review_request)
        # Only the primary guardian's own signature fixes their details (a second guardian
        # who signed did so with the name they gave when joining).
        if ConsentSignature.objects.filter(request=request, signed_by=request.family_id).exists():
            signed = Guardian.objects.get(request=request)
            if not names_match(fields.get("legal_name", ""), signed.legal_name) or not fields.get(
                "has_legal_authority"
            ):
                message = (
                    "Your name and authority are on the signed consent and cannot change now. "
                    "If they are wrong, call us."
                )
                raise ValidationError({"legal_name": message})
            fields = {**fields, "legal_name": signed.legal_name}
        guardian, _ = Guardian.objects.update_or_create(
            request=request, defaults={**fields, "updated_at": timezone.now()}
        )
    return guardian


def child_save(*, review_request: ReviewRequest, fields: dict) -> Child:
    """Save the child step as typed (blank fields allowed: they show as missing)."""
    return _details_save(Child, review_request, fields)


def referring_pediatrician_save(
    *, review_request: ReviewRequest, fields: dict
) -> ReferringPediatrician:
    """Save the pediatrician's details as typed (blank fields allowed: they show as missing)."""
    return _details_save(ReferringPediatrician, review_request, fields)


def names_match(typed: str, legal_name: str) -> bool:
    """A typed signature matches a name, whatever the spacing, case or Unicode form."""

    def normal(name):
        return " ".join(unicodedata.normalize("NFKC", name).split()).casefold()

    return bool(typed.strip()) and normal(typed) == normal(legal_name)


def consent_sign(
    *, review_request: ReviewRequest, typed_name: str, actor: User, ip_address: str, user_agent: str
) -> ConsentSignature:
    """Sign the current financial consent. Only a guardian signs, in their own account: the
    primary guardian once they have given a full legal name and stated their legal
    authority, or a second guardian who stated it when accepting their invitation; never a
    coordinator. The typed name must match the signer's legal name (letter case and spacing
    aside). Stores the text version, the name, the time, the address and the browser. A
    signature is never changed or replaced."""
    with transaction.atomic():
        request = _lock_draft(review_request)
        access = shared_access_for(review_request=request, user=actor)
        if actor.pk != request.family_id and access is None:
            raise ValidationError("Only the child's parent or guardian can sign the consent.")
        if ConsentSignature.objects.filter(request=request).exists():
            raise ValidationError("The consent is already signed.")
        if access is not None:
            if not access.has_legal_authority:
                raise ValidationError(
                    "Only a guardian with legal authority to consent for the child can sign. "
                    "Ask the other guardian to sign."
                )
            legal_name = access.legal_name
        else:
            guardian = Guardian.objects.filter(request=request).first()
            if guardian is None or not guardian.legal_name or not guardian.has_legal_authority:
                raise ValidationError(
                    "First give your full legal name and confirm your legal authority on the "
                    "“You” step."
                )
            legal_name = guardian.legal_name
        if not names_match(typed_name, legal_name):
            message = f"Type your full legal name exactly as given: {legal_name}."
            raise ValidationError({"typed_name": message})
        consent_text = consent_text_current()
        if consent_text is None:
            raise ValidationError("The consent text is not available yet. Please call us.")
        return ConsentSignature.objects.create(
            request=request,
            consent_text=consent_text,
            signed_name=" ".join(typed_name.split()),
            signed_by=actor,
            ip_address=ip_address or None,
            user_agent=user_agent[:500],
            fee_cents=request.service.fee_cents,
            currency=request.service.currency,
        )


def review_request_submit(*, review_request: ReviewRequest, actor: User) -> ReviewRequest:
    """Send a complete draft to the hospital: it moves to awaiting_payment, where billing takes
    over. Refused with ``IncompleteRequest`` (naming every missing item) unless the whole
    checklist is done; checked under the row lock, so nothing is removed meanwhile."""
    with transaction.atomic():
        request = _lock_draft(review_request)
        missing = [item for item in submission_checklist(review_request=request) if not item.done]
        if missing:
            raise IncompleteRequest(missing)
        return review_request_transition(
            review_request=request, to_status=Status.AWAITING_PAYMENT, actor=actor
        )


def review_request_answer(
    *, review_request: ReviewRequest, text: str, actor: User
) -> ReviewRequest:
    """The family's answer to a request for information: the request returns to submitted
    with the answer on its timeline, and the review clock resumes. Files come separately."""
    if not is_guardian(review_request=review_request, user=actor):
        raise ValidationError("Only the family can answer.")
    if not text.strip():
        raise ValidationError({"text": "Write a short answer, even if you only added files."})
    # Only an answer to a question moves the request: never awaiting_payment → submitted.
    return review_request_transition(
        review_request=review_request,
        to_status=Status.SUBMITTED,
        actor=actor,
        note=text,
        only_moves=frozenset({(Status.NEEDS_INFO, Status.SUBMITTED)}),
    )


# --- Requests a coordinator starts, invitations and shared cases -----------------------------


class InvitationClosed(Exception):
    """The link is genuine but no longer works: ``state`` is "accepted", "revoked" or
    "expired". The message says what happened and how to get a new one."""

    def __init__(self, state: str, message: str):
        self.state = state
        super().__init__(message)


class WrongAccount(Exception):
    """The invitation was sent to another address than the signed-in account's."""


def review_request_event_add(
    *, review_request: ReviewRequest, kind: str, note: str, actor: User | None
) -> RequestEvent:
    """A line on the request's timeline that is not a status change (its ``note`` is the
    family's line: never anything about the child)."""
    return RequestEvent.objects.create(request=review_request, kind=kind, note=note, actor=actor)


def review_request_start_for_family(
    *,
    service: ReviewService,
    eligibility: EligibilityAnswers,
    guardian: dict,
    child: dict,
    actor: User,
) -> ReviewRequest:
    """A draft a coordinator starts for a family on the phone: the same eligibility check as
    the public page (its answers and result recorded, with who asked), and what the family
    said filled in. The family has no account on it until they accept the invitation; they
    check it all, complete it and sign the consent themselves. Refused with a
    ``ValidationError`` giving the check's reasons when the family is not eligible."""
    result = check_eligibility(service, eligibility)
    if not result.eligible:
        raise ValidationError(result.reasons)
    with transaction.atomic():
        request = review_request_create(service=service, family=None, created_by=actor)
        request.eligibility = {
            **asdict(eligibility),
            "eligible": True,
            "checked_at": timezone.now().isoformat(),
            "checked_by": "coordinator",
        }
        request.save(update_fields=["eligibility"])
        Guardian.objects.create(
            request=request,
            state=eligibility.state,
            zip_code=eligibility.zip_code,
            **{name: value for name, value in guardian.items() if name != "has_legal_authority"},
        )
        Child.objects.create(request=request, **child)
    return request


INVITATION_TEMPLATES = {
    Invitation.Kind.FAMILY: "invitation_family",
    Invitation.Kind.GUARDIAN: "invitation_guardian",
    Invitation.Kind.PEDIATRICIAN: "invitation_pediatrician",
}
INVITATION_TIMELINE = {
    Invitation.Kind.FAMILY: "Your coordinator e-mailed you an invitation to finish this request.",
    Invitation.Kind.GUARDIAN: "An invitation was e-mailed to a second guardian.",
    Invitation.Kind.PEDIATRICIAN: "Your child's pediatrician was e-mailed a link to upload "
    "the referral and records.",
}
# A request in these states takes no new links of the kind (it has moved past them).
INVITABLE = {
    Invitation.Kind.FAMILY: {Status.DRAFT},
    Invitation.Kind.GUARDIAN: {
        Status.DRAFT,
        Status.AWAITING_PAYMENT,
        Status.SUBMITTED,
        Status.NEEDS_INFO,
        Status.IN_REVIEW,
        Status.OPINION_READY,
        Status.DELIVERED,
    },
    Invitation.Kind.PEDIATRICIAN: {Status.DRAFT, Status.SUBMITTED, Status.NEEDS_INFO},
}


def _check_inviter(request: ReviewRequest, kind: str, actor: User) -> None:
    if actor.sees_all_requests:
        return  # coordinators and admins
    if kind == Invitation.Kind.FAMILY or request.family_id != actor.pk:
        # Only the primary guardian shares the case (a second guardian cannot add a third).
        raise ValidationError("Only the primary guardian or a coordinator can send this link.")


def invitation_send(
    *, review_request: ReviewRequest, kind: str, email: str, actor: User
) -> Invitation:
    """E-mail a link to join the request: the family a coordinator started it for, a second
    guardian, or the referring pediatrician (upload only). A new link of a kind revokes the
    open one. The e-mail holds the link and the reference, nothing about the child; the
    timeline says a link was sent."""
    email = normalize_email(email)
    with transaction.atomic():
        request = ReviewRequest.objects.select_for_update().get(pk=review_request.pk)
        _check_inviter(request, kind, actor)
        if request.status not in INVITABLE[kind]:
            raise ValidationError(
                f"{request.reference} is {request.get_status_display().lower()}: this link "
                "cannot be sent any more."
            )
        if kind == Invitation.Kind.FAMILY and request.family_id is not None:
            raise ValidationError("The family has already joined this request.")
        if kind == Invitation.Kind.GUARDIAN and _is_on_request(request, email):
            raise ValidationError("This address is already a guardian on this request.")
        now = timezone.now()
        request.invitations.filter(
            kind=kind, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now, revoked_by=actor)
        days = (
            settings.PEDIATRICIAN_LINK_DAYS
            if kind == Invitation.Kind.PEDIATRICIAN
            else settings.INVITATION_DAYS
        )
        invitation = Invitation.objects.create(
            request=request,
            kind=kind,
            email=email,
            created_by=actor,
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
        _invitation_mail(invitation, INVITATION_TEMPLATES[kind])
        review_request_event_add(
            review_request=request,
            kind=RequestEvent.Kind.INVITATION,
            note=INVITATION_TIMELINE[kind],
            actor=actor,
        )
    return invitation


def _is_on_request(request: ReviewRequest, email: str) -> bool:
    if request.family is not None and request.family.email == email:
        return True
    return request.shared_accesses.filter(user__email=email, removed_at__isnull=True).exists()


def _invitation_mail(invitation: Invitation, template: str) -> None:
    request = invitation.request
    message_queue(
        to=invitation.email,
        template=template,
        context={
            "reference": request.reference,
            "service": request.service.name,
            "department": request.service.department.name,
            "phone": request.service.department.phone,
            "link_url": invitation_url(invitation),
            "expires_on": dateformat.format(timezone.localtime(invitation.expires_at), "l, F j, Y"),
        },
    )


def invitation_revoke(*, invitation: Invitation, actor: User) -> Invitation:
    """Stop a link from working (a pediatrician's upload link, or an invitation sent to the
    wrong address). Already used or revoked: nothing changes."""
    with transaction.atomic():
        request = ReviewRequest.objects.select_for_update().get(pk=invitation.request_id)
        _check_inviter(request, invitation.kind, actor)
        updated = Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=timezone.now(), revoked_by=actor)
        if updated:
            review_request_event_add(
                review_request=request,
                kind=RequestEvent.Kind.INVITATION,
                note=f"A link was withdrawn: {invitation.get_kind_display().lower()}.",
                actor=actor,
            )
    invitation.refresh_from_db()
    return invitation


def invitation_check(*, invitation: Invitation, now=None) -> None:
    """Raise ``InvitationClosed`` if the link no longer works, saying why and what to do."""
    state = invitation.state_at(now or timezone.now())
    if state == "open":
        return
    phone = invitation.request.service.department.phone
    ask = (
        f"Ask the family for a new link, or call {phone}."
        if invitation.kind == Invitation.Kind.PEDIATRICIAN
        else f"Call your coordinator at {phone} for a new one."
    )
    messages = {
        "accepted": "This invitation has already been used. If it was you, sign in to see "
        "the request. Otherwise, " + ask[0].lower() + ask[1:],
        "revoked": "This link was withdrawn, or replaced by a newer one. " + ask,
        "expired": "This link expired on "
        + dateformat.format(timezone.localtime(invitation.expires_at), "F j, Y")
        + ". "
        + ask,
    }
    raise InvitationClosed(state, messages[state])


def invitation_opened(*, invitation: Invitation) -> None:
    """Note the first time a link is opened (the coordinators' funnel shows it)."""
    if invitation.opened_at is None:
        Invitation.objects.filter(pk=invitation.pk, opened_at__isnull=True).update(
            opened_at=timezone.now()
        )


def invitation_accept(*, invitation: Invitation, user: User, details: dict | None = None):
    """Join the request the invitation is for, as ``user`` (signed in to an account with the
    invited address): the family becomes the request's owner; a second guardian gets shared
    access with the name, relationship and legal authority stated in ``details``. Used once:
    the row is locked, so two tabs cannot both use it. Raises ``InvitationClosed`` or
    ``WrongAccount``; nothing changes then."""
    with transaction.atomic():
        request = ReviewRequest.objects.select_for_update().get(pk=invitation.request_id)
        current = Invitation.objects.select_for_update().get(pk=invitation.pk)
        current.request = request
        invitation_check(invitation=current)
        if current.kind == Invitation.Kind.PEDIATRICIAN:
            raise ValueError("An upload link is not accepted: it only uploads.")
        if not user.is_family or normalize_email(user.email) != current.email:
            raise WrongAccount
        now = timezone.now()
        if current.kind == Invitation.Kind.FAMILY:
            if request.family_id is not None:
                raise InvitationClosed("accepted", "The family has already joined this request.")
            request.family = user
            request.save(update_fields=["family"])
            line = "You accepted the invitation and joined this request."
        else:
            if _is_on_request(request, user.email):
                raise InvitationClosed("accepted", "You are already a guardian on this request.")
            SharedAccess.objects.create(
                request=request, user=user, invitation=current, granted_at=now, **(details or {})
            )
            line = f"{details['legal_name']} joined this request as a second guardian."
        current.accepted_at, current.accepted_by = now, user
        current.save(update_fields=["accepted_at", "accepted_by"])
        review_request_event_add(
            review_request=request, kind=RequestEvent.Kind.ACCESS, note=line, actor=user
        )
    return request


def shared_access_remove(*, access: SharedAccess, actor: User) -> SharedAccess:
    """End a second guardian's access: the primary guardian or a coordinator does it; from
    their next page, the request is as missing for them as anyone else's. The row stays,
    stamped, and the timeline says so."""
    with transaction.atomic():
        request = ReviewRequest.objects.select_for_update().get(pk=access.request_id)
        if not (actor.sees_all_requests or actor.pk == request.family_id):
            raise ValidationError("Only the primary guardian or a coordinator can remove access.")
        updated = SharedAccess.objects.filter(pk=access.pk, removed_at__isnull=True).update(
            removed_at=timezone.now(), removed_by=actor
        )
        if updated:
            review_request_event_add(
                review_request=request,
                kind=RequestEvent.Kind.ACCESS,
                note=f"{access.legal_name} no longer has access to this request.",
                actor=actor,
            )
    access.refresh_from_db()
    return access


def invitation_reminders_send(*, now=None) -> int:
    """Remind each family that has not opened its invitation, or has not sent the request it
    accepted, ``INVITATION_REMINDER_DAYS`` on: once each. State-based and idempotent: every
    reminder row is unique and written with its e-mail in one transaction, so a sweep run
    twice, or late, sends each reminder once."""
    now = now or timezone.now()
    due = now - timedelta(days=settings.INVITATION_REMINDER_DAYS)
    family = Invitation.objects.filter(kind=Invitation.Kind.FAMILY, revoked_at__isnull=True)
    not_opened = family.filter(
        created_at__lte=due,
        opened_at__isnull=True,
        accepted_at__isnull=True,
        expires_at__gt=now,
        request__status=Status.DRAFT,
    ).exclude(reminders__kind=InvitationReminder.Kind.NOT_OPENED)
    not_finished = family.filter(accepted_at__lte=due, request__status=Status.DRAFT).exclude(
        reminders__kind=InvitationReminder.Kind.NOT_FINISHED
    )
    sent = 0
    for kind, invitations in (
        (InvitationReminder.Kind.NOT_OPENED, not_opened),
        (InvitationReminder.Kind.NOT_FINISHED, not_finished),
    ):
        for invitation_id in invitations.values_list("pk", flat=True):
            sent += _remind(invitation_id, kind)
    return sent


def _remind(invitation_id: int, kind: str) -> int:
    try:
        with transaction.atomic():
            InvitationReminder.objects.create(invitation_id=invitation_id, kind=kind)
            invitation = Invitation.objects.select_related(
                "request__service__department", "request__family"
            ).get(pk=invitation_id)
            if kind == InvitationReminder.Kind.NOT_OPENED:
                _invitation_mail(invitation, "invitation_reminder")
            else:
                request = invitation.request
                path = reverse("intake:wizard_review", args=[request.reference])
                message_queue(
                    to=request.family.email,
                    template="request_unfinished",
                    context={
                        "reference": request.reference,
                        "continue_url": f"{settings.SITE_URL}{path}",
                        "phone": request.service.department.phone,
                    },
                )
    except IntegrityError:
        return 0  # another sweep sent it
    return 1
