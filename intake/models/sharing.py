"""Who else may join a request: the links e-mailed to the family, a second guardian or the
referring pediatrician, the access a second guardian holds, and the reminders sent."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from intake.models import Relationship, ReviewRequest


class InvitationQuerySet(models.QuerySet):
    def unused(self):
        """Neither used nor withdrawn (perhaps expired): at most one per request and kind."""
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True)

    def working(self, now):
        """Links that still open their page at ``now``."""
        return self.unused().filter(expires_at__gt=now)


class Invitation(models.Model):
    """A link e-mailed to someone to join one request: the family a coordinator started it
    for, a second guardian, or the referring pediatrician (who may only upload files).

    The link carries the random ``key``, signed; the row decides whether it still works.
    The family's and a second guardian's links are used once (``accepted_at``); the
    pediatrician's works until it expires or is revoked. Sending a new link of a kind revokes
    the open one, so at most one is open per request and kind (a database rule)."""

    class Kind(models.TextChoices):
        FAMILY = "family", _("Family")
        GUARDIAN = "guardian", _("Second guardian")
        PEDIATRICIAN = "pediatrician", _("Referring pediatrician (upload only)")

    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(ReviewRequest, on_delete=models.CASCADE, related_name="invitations")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    email = models.EmailField("e-mail")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    opened_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Wrong answers to "your child's date of birth" on a family invitation (a stranger who got
    # the e-mail through a mistyped address does not know it); too many withdraw the link.
    failed_checks = models.PositiveSmallIntegerField(default=0)
    # The language of its e-mails (and reminders): the family's, as the coordinator picked
    # it; a second guardian's, as the inviting guardian reads; English for a pediatrician.
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")

    objects = InvitationQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["family", "guardian", "pediatrician"]),
                name="invitation_kind_valid",
            ),
            models.UniqueConstraint(
                fields=["request", "kind"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_kind",
            ),
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True) | ~Q(kind="pediatrician"),
                name="invitation_upload_link_never_accepted",
            ),
        ]
        indexes = [
            # The reminder sweep: family invitations by when they were sent or accepted.
            models.Index(fields=["kind", "created_at"], name="invitation_kind_sent_idx"),
            models.Index(fields=["kind", "accepted_at"], name="invitation_kind_accepted_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} invitation to {self.request}"

    def state_at(self, now) -> str:
        """ "accepted", "revoked", "expired" or "open"."""
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        return "expired" if self.expires_at <= now else "open"


class SharedAccess(models.Model):
    """A second guardian's access to a request, given by accepting an invitation. Their
    legal authority is what they stated then; only with it may they sign the consent.
    Removing access stamps ``removed_at``: the row stays for the audit trail."""

    request = models.ForeignKey(
        ReviewRequest, on_delete=models.CASCADE, related_name="shared_accesses"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="shared_accesses"
    )
    invitation = models.OneToOneField(Invitation, on_delete=models.PROTECT, related_name="access")
    legal_name = models.CharField("full legal name", max_length=150)
    relationship = models.CharField(
        "relationship to the child", max_length=20, choices=Relationship.choices
    )
    has_legal_authority = models.BooleanField(default=False)
    granted_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["request", "user"],
                condition=Q(removed_at__isnull=True),
                name="shared_access_one_active_per_user",
            ),
        ]
        indexes = [models.Index(fields=["user", "removed_at"], name="shared_access_user_idx")]

    def __str__(self):
        return f"Second guardian on {self.request}"


class InvitationReminder(models.Model):
    """A reminder sent to a family that has not opened its invitation, or not finished its
    request, after ``INVITATION_REMINDER_DAYS``. Unique per invitation and kind, written in
    the same transaction as its e-mail: each reminder goes once, however often the sweep
    runs."""

    class Kind(models.TextChoices):
        NOT_OPENED = "not_opened", "Invitation not opened"
        NOT_FINISHED = "not_finished", "Request not finished"

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["invitation", "kind"], name="invitation_reminder_once_per_kind"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} reminder for {self.invitation.request}"
