"""Every write to the catalogue and to review requests."""

import secrets
import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from intake.lifecycle import NOTE_REQUIRED, TRANSITIONS, Status, due_dates, family_notified
from intake.models import (
    Child,
    ConsentSignature,
    ConsentText,
    Guardian,
    Question,
    Questionnaire,
    QuestionnaireAnswers,
    ReferringPediatrician,
    RequestEvent,
    ReviewRequest,
    ReviewService,
)
from intake.selectors import (
    consent_text_current,
    is_guardian,
    questionnaire_current,
    shared_access_for,
    submission_checklist,
)
from intake.services.deliveries import delivery_day_add
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
    for _attempt in range(5):
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
    note_params: dict | None = None,
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
            note_params=note_params or {},
            created_at=now,
        )
        if to_status == Status.DELIVERED:
            delivery_day_add(request=locked)
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
        language=review_request.family.language,
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
                    text_es=question.text_es,
                    help_text=question.help_text,
                    help_text_es=question.help_text_es,
                    kind=question.kind,
                    choices=question.choices,
                    choices_es=question.choices_es,
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


def consent_text_new_version(
    *, title: str, body: str, title_es: str = "", body_es: str = ""
) -> ConsentText:
    """A new draft version of the financial consent (in English, and in Spanish when given).
    Two admins racing for the same number is refused by the unique version, not silently
    merged."""
    return ConsentText.objects.create(
        version=_next_version(ConsentText.objects.all()),
        title=title,
        body=body,
        title_es=title_es,
        body_es=body_es,
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
            raise ValidationError(_("Only the child's parent or guardian can sign the consent."))
        if ConsentSignature.objects.filter(request=request).exists():
            raise ValidationError(_("The consent is already signed."))
        if access is not None:
            if not access.has_legal_authority:
                raise ValidationError(
                    _(
                        "Only a guardian with legal authority to consent for the child can "
                        "sign. Ask the other guardian to sign."
                    )
                )
            legal_name = access.legal_name
        else:
            guardian = Guardian.objects.filter(request=request).first()
            if guardian is None or not guardian.legal_name or not guardian.has_legal_authority:
                raise ValidationError(
                    _(
                        "First give your full legal name and confirm your legal authority on "
                        "the “You” step."
                    )
                )
            legal_name = guardian.legal_name
        if not names_match(typed_name, legal_name):
            message = _("Type your full legal name exactly as given: %(name)s.") % {
                "name": legal_name
            }
            raise ValidationError({"typed_name": message})
        consent_text = consent_text_current()
        if consent_text is None:
            raise ValidationError(_("The consent text is not available yet. Please call us."))
        return ConsentSignature.objects.create(
            request=request,
            consent_text=consent_text,
            signed_name=" ".join(typed_name.split()),
            signed_by=actor,
            ip_address=ip_address or None,
            user_agent=user_agent[:500],
            fee_cents=request.service.fee_cents,
            currency=request.service.currency,
            # The text the guardian read: the Spanish one when the page was Spanish and the
            # version has it.
            language="es"
            if translation.get_language() == "es" and consent_text.body_es
            else settings.LANGUAGE_CODE,
        )


def review_request_submit(*, review_request: ReviewRequest, actor: User) -> ReviewRequest:
    """Send a complete draft to the hospital: it moves to awaiting_payment, where billing takes
    over. Refused with ``IncompleteRequest`` (naming every missing item) unless the whole
    checklist is done; checked under the row lock, so nothing is removed meanwhile."""
    with transaction.atomic():
        request = _lock_draft(review_request)
        if request.family_id is None:
            raise RequestLocked(f"{request.reference} waits for its family to join.")
        missing = [item for item in submission_checklist(review_request=request) if not item.done]
        if missing:
            raise IncompleteRequest(missing)
        review_request_transition(
            review_request=request, to_status=Status.AWAITING_PAYMENT, actor=actor
        )
        # A fee paid in advance moves it on again (billing reacts to the move): read it back.
        request.refresh_from_db()
        return request


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


def review_request_event_add(
    *,
    review_request: ReviewRequest,
    kind: str,
    note: str,
    actor: User | None,
    note_params: dict | None = None,
) -> RequestEvent:
    """A line on the request's timeline that is not a status change (its ``note`` is the
    family's line: never anything about the child; with ``note_params``, a sentence of the
    catalogue read in each reader's language, see ``RequestEvent.note_text``)."""
    return RequestEvent.objects.create(
        request=review_request, kind=kind, note=note, note_params=note_params or {}, actor=actor
    )


# The invitations, shared access and requests coordinators start live in their own module;
# they are services of intake like the rest, reached as ``intake.services.<name>``.
from intake.services.sharing import (  # noqa: E402
    INVITABLE,
    INVITATION_MAX_CHECKS,
    InvitationClosed,
    WrongAccount,
    invitation_accept,
    invitation_check,
    invitation_confirm_child,
    invitation_opened,
    invitation_reminders_send,
    invitation_revoke,
    invitation_send,
    review_request_start_for_family,
    shared_access_remove,
)

__all__ = [
    "INVITABLE",
    "INVITATION_MAX_CHECKS",
    "InvitationClosed",
    "WrongAccount",
    "invitation_accept",
    "invitation_check",
    "invitation_confirm_child",
    "invitation_opened",
    "invitation_reminders_send",
    "invitation_revoke",
    "invitation_send",
    "review_request_start_for_family",
    "shared_access_remove",
]
