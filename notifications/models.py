from django.db import models
from django.utils import timezone


class MessageStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Message(models.Model):
    """One outgoing e-mail. Rows are written in the same transaction as the change they
    announce and sent afterwards by a task, so a message is never lost and never sent for a
    change that was rolled back. Bodies never carry patient data ("sign in to see it")."""

    Status = MessageStatus

    to = models.EmailField()
    subject = models.CharField(max_length=200)
    body = models.TextField()
    template = models.CharField(max_length=100, help_text="The template it was written from.")
    # The language it was written in: the recipient's (a family's choice; staff read English).
    language = models.CharField(max_length=8, default="en")
    # [{"filename", "content" or "content_base64", "mimetype"}]: a calendar invite as text, or
    # the opinion letter PDF as base64 (kept with the row, like the body).
    attachments = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=MessageStatus.values),
                name="message_status_valid",
            ),
        ]
        indexes = [
            # The sweep asks only for due queued rows and stale claims: this index answers both.
            models.Index(fields=["status", "next_attempt_at"], name="message_due_idx"),
        ]

    def __str__(self):
        return f"{self.template} to {self.to} ({self.get_status_display()})"
