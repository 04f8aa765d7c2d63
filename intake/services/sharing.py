"""Requests a coordinator starts on the phone, the links that invite people to a request
(the family, a second guardian, the referring pediatrician) and the access they give."""

from dataclasses import asdict
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.mail_limits import allowances_count, allowances_left
from accounts.models import User, normalize_email
from accounts.services import language_or_default
from intake.eligibility import EligibilityAnswers, check_eligibility
from intake.lifecycle import Status
from intake.links import invitation_url
from intake.models import (
    Child,
    Guardian,
    Invitation,
    InvitationReminder,
    RequestEvent,
    ReviewRequest,
    ReviewService,
    SharedAccess,
)
from intake.models.catalogue import localized
from intake.services import review_request_create, review_request_event_add
from notifications.services import message_queue


class InvitationClosed(Exception):
    """The link is genuine but no longer works: ``state`` is "accepted", "revoked" or
    "expired". The message says what happened and how to get a new one."""

    def __init__(self, state: str, message: str):
        self.state = state
        super().__init__(message)


class WrongAccount(Exception):
    """The invitation was sent to another address than the signed-in account's."""


def review_request_start_for_family(
    *,
    service: ReviewService,
    eligibility: EligibilityAnswers,
    guardian: dict,
    child: dict,
    actor: User,
    language: str = settings.LANGUAGE_CODE,
) -> ReviewRequest:
    """A draft a coordinator starts for a family on the phone: the same eligibility check as
    the public page (its answers and result recorded, with who asked), and what the family
    said filled in, in the family's ``language`` (its invitation's). The family has no
    account on it until they accept the invitation; they
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
        request.language = language_or_default(language)
        request.save(update_fields=["eligibility", "language"])
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
# Stored in English on the event, read in the family's language (RequestEvent.family_text).
INVITATION_TIMELINE = {
    Invitation.Kind.FAMILY: gettext_noop(
        "Your coordinator e-mailed you an invitation to finish this request."
    ),
    Invitation.Kind.GUARDIAN: gettext_noop("An invitation was e-mailed to a second guardian."),
    Invitation.Kind.PEDIATRICIAN: gettext_noop(
        "Your child's pediatrician was e-mailed a link to upload the referral and records."
    ),
}
INVITATION_WITHDRAWN = {
    Invitation.Kind.FAMILY: gettext_noop("The family's invitation link was withdrawn."),
    Invitation.Kind.GUARDIAN: gettext_noop("The second guardian's invitation link was withdrawn."),
    Invitation.Kind.PEDIATRICIAN: gettext_noop("The pediatrician's upload link was withdrawn."),
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
        raise ValidationError(_("Only the primary guardian or a coordinator can send this link."))


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
                _("%(reference)s is %(status)s: this link cannot be sent any more.")
                % {
                    "reference": request.reference,
                    "status": str(request.get_status_display()).lower(),
                }
            )
        if kind == Invitation.Kind.FAMILY and request.family_id is not None:
            raise ValidationError(_("The family has already joined this request."))
        if kind != Invitation.Kind.FAMILY and request.family_id is None:
            raise ValidationError(
                _("Invite the family first: others join once the family has accepted.")
            )
        if kind == Invitation.Kind.GUARDIAN and _is_on_request(request, email):
            raise ValidationError(_("This address is already a guardian on this request."))
        # A family's form could otherwise e-mail any address any number of times: each family
        # and each address get so many links an hour (coordinators are not limited).
        allowed = settings.LINK_EMAILS_PER_HOUR
        allowances = [
            ("link-mail-sender", str(actor.pk), allowed),
            ("link-mail-to", email, allowed),
        ]
        if actor.is_family and not allowances_left(allowances):
            department = request.service.department
            raise ValidationError(
                _(
                    "Several links were e-mailed in the last hour. Please wait an hour before "
                    "sending another, or call the %(name)s team at %(phone)s."
                )
                % {"name": localized(department, "name"), "phone": department.phone}
            )
        if actor.is_family:
            allowances_count(allowances)
        now = timezone.now()
        request.invitations.unused().filter(kind=kind).update(revoked_at=now, revoked_by=actor)
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
            language=_invitation_language(request, kind, actor),
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


def _invitation_language(request: ReviewRequest, kind: str, actor: User) -> str:
    """The family's language for its own link; a second guardian reads the inviting
    guardian's; a pediatrician's practice reads English, like the rest of the staff."""
    if kind == Invitation.Kind.FAMILY:
        return request.mail_language
    if kind == Invitation.Kind.GUARDIAN:
        return actor.language if actor.is_family else request.mail_language
    return settings.LANGUAGE_CODE


def _invitation_mail(invitation: Invitation, template: str) -> None:
    request = invitation.request
    message_queue(
        to=invitation.email,
        template=template,
        language=invitation.language,
        context={
            "reference": request.reference,
            "phone": request.service.department.phone,
            "link_url": invitation_url(invitation),
            "expires_on": timezone.localtime(invitation.expires_at),
        },
    )


def invitation_revoke(*, invitation: Invitation, actor: User) -> Invitation:
    """Stop a link from working (a pediatrician's upload link, or an invitation sent to the
    wrong address). Already used or revoked: nothing changes."""
    with transaction.atomic():
        request = ReviewRequest.objects.select_for_update().get(pk=invitation.request_id)
        _check_inviter(request, invitation.kind, actor)
        updated = (
            Invitation.objects.unused()
            .filter(pk=invitation.pk)
            .update(revoked_at=timezone.now(), revoked_by=actor)
        )
        if updated:
            review_request_event_add(
                review_request=request,
                kind=RequestEvent.Kind.INVITATION,
                note=INVITATION_WITHDRAWN[invitation.kind],
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
    pediatrician = invitation.kind == Invitation.Kind.PEDIATRICIAN
    ask = (
        _("Ask the family for a new link, or call %(phone)s.")
        if pediatrician
        else _("Call your coordinator at %(phone)s for a new one.")
    ) % {"phone": phone}
    otherwise = (
        _("Otherwise, ask the family for a new link, or call %(phone)s.")
        if pediatrician
        else _("Otherwise, call your coordinator at %(phone)s for a new one.")
    ) % {"phone": phone}
    expired_on = dateformat.format(timezone.localtime(invitation.expires_at), _("F j, Y"))
    messages = {
        "accepted": _(
            "This invitation has already been used. If it was you, sign in to see the request."
        )
        + " "
        + otherwise,
        "revoked": _("This link was withdrawn, or replaced by a newer one.") + " " + ask,
        "expired": _("This link expired on %(day)s.") % {"day": expired_on} + " " + ask,
    }
    raise InvitationClosed(state, messages[state])


def invitation_opened(*, invitation: Invitation) -> None:
    """Note the first time a link is opened (the coordinators' funnel shows it)."""
    if invitation.opened_at is None:
        Invitation.objects.filter(pk=invitation.pk, opened_at__isnull=True).update(
            opened_at=timezone.now()
        )


# Wrong dates of birth a family invitation takes before it is withdrawn.
INVITATION_MAX_CHECKS = 5


def invitation_confirm_child(*, invitation: Invitation, date_of_birth) -> None:
    """A family invitation opens the request only to someone who knows the child's date of
    birth as the coordinator noted it: an e-mail address mistyped on the phone must not hand
    a stranger the child's file. A wrong date raises a ``ValidationError`` (and is counted,
    in its own transaction); after ``INVITATION_MAX_CHECKS`` the link is withdrawn and the
    family must call. Other kinds, and a request with no date noted, are not checked."""
    if invitation.kind != Invitation.Kind.FAMILY:
        return
    noted = (
        Child.objects.filter(request=invitation.request_id)
        .values_list("date_of_birth", flat=True)
        .first()
    )
    if noted is None or date_of_birth == noted:
        return
    phone = invitation.request.service.department.phone
    with transaction.atomic():
        Invitation.objects.filter(pk=invitation.pk).update(failed_checks=F("failed_checks") + 1)
        failed = Invitation.objects.values_list("failed_checks", flat=True).get(pk=invitation.pk)
        if failed >= INVITATION_MAX_CHECKS:
            Invitation.objects.filter(pk=invitation.pk, revoked_at__isnull=True).update(
                revoked_at=timezone.now()
            )
            review_request_event_add(
                review_request=invitation.request,
                kind=RequestEvent.Kind.INVITATION,
                note=gettext_noop("The invitation was withdrawn after several wrong answers."),
                actor=None,
            )
    if failed >= INVITATION_MAX_CHECKS:
        raise InvitationClosed(
            "revoked",
            _(
                "This link was withdrawn after several wrong dates of birth. Call %(phone)s "
                "for a new one."
            )
            % {"phone": phone},
        )
    raise ValidationError(
        {
            "child_date_of_birth": _(
                "This is not the date of birth your coordinator noted. Check it, or call %(phone)s."
            )
            % {"phone": phone}
        }
    )


def invitation_accept(*, invitation: Invitation, user: User, details: dict | None = None):
    """Join the request the invitation is for, as ``user`` (signed in to an account with the
    invited address): the family becomes the request's owner once they give the child's date
    of birth (``details["child_date_of_birth"]``, see ``invitation_confirm_child``); a second
    guardian gets shared access with the name, relationship and legal authority stated in
    ``details``. Used once: the row is locked, so two tabs cannot both use it. Raises
    ``InvitationClosed``, ``WrongAccount`` or a ``ValidationError``; nothing changes then."""
    details = dict(details or {})
    invitation_confirm_child(
        invitation=invitation, date_of_birth=details.pop("child_date_of_birth", None)
    )
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
                raise InvitationClosed("accepted", _("The family has already joined this request."))
            request.family = user
            request.save(update_fields=["family"])
            line, params = gettext_noop("You accepted the invitation and joined this request."), {}
        else:
            if _is_on_request(request, user.email):
                raise InvitationClosed("accepted", _("You are already a guardian on this request."))
            SharedAccess.objects.create(
                request=request, user=user, invitation=current, granted_at=now, **details
            )
            line = gettext_noop("%(name)s joined this request as a second guardian.")
            params = {"name": details["legal_name"]}
        current.accepted_at, current.accepted_by = now, user
        current.save(update_fields=["accepted_at", "accepted_by"])
        review_request_event_add(
            review_request=request,
            kind=RequestEvent.Kind.ACCESS,
            note=line,
            note_params=params,
            actor=user,
        )
    return request


def shared_access_remove(*, access: SharedAccess, actor: User) -> SharedAccess:
    """End a second guardian's access: the primary guardian or a coordinator does it; from
    their next page, the request is as missing for them as anyone else's. The row stays,
    stamped, and the timeline says so."""
    with transaction.atomic():
        request = ReviewRequest.objects.select_for_update().get(pk=access.request_id)
        if not (actor.sees_all_requests or actor.pk == request.family_id):
            raise ValidationError(
                _("Only the primary guardian or a coordinator can remove access.")
            )
        updated = SharedAccess.objects.filter(pk=access.pk, removed_at__isnull=True).update(
            removed_at=timezone.now(), removed_by=actor
        )
        if updated:
            review_request_event_add(
                review_request=request,
                kind=RequestEvent.Kind.ACCESS,
                note=gettext_noop("%(name)s no longer has access to this request."),
                note_params={"name": access.legal_name},
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
    not_opened = (
        Invitation.objects.working(now)
        .filter(
            kind=Invitation.Kind.FAMILY,
            created_at__lte=due,
            opened_at__isnull=True,
            request__status=Status.DRAFT,
        )
        .exclude(reminders__kind=InvitationReminder.Kind.NOT_OPENED)
    )
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
                    language=request.family.language,
                    context={
                        "reference": request.reference,
                        "continue_url": f"{settings.SITE_URL}{path}",
                        "phone": request.service.department.phone,
                    },
                )
    except IntegrityError:
        return 0  # another sweep sent it
    return 1
