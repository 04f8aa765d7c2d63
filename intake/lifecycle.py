"""The document-review lifecycle: every status, every legal move, and the review clock.

::

    draft ──submit──▶ awaiting_payment ──pay──▶ submitted ──confirm records──▶ in_review
                                                   │  ▲                          │
                                       request info▼  │ info received            ▼ all opinions in
                                              needs_info                    opinion_ready
                                                                                 │ deliver
                                                                                 ▼
                                                                             delivered
     any state before in_review ──cancel──▶ cancelled      paid states ──refund──▶ refunded

Only ``intake.services.review_request_transition`` changes a status, and only along this table.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
    SUBMITTED = "submitted", _("Submitted")
    NEEDS_INFO = "needs_info", _("Needs information")
    IN_REVIEW = "in_review", _("In review")
    OPINION_READY = "opinion_ready", _("Opinion ready")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")
    REFUNDED = "refunded", _("Refunded")


TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.DRAFT: frozenset({Status.AWAITING_PAYMENT, Status.CANCELLED}),
    Status.AWAITING_PAYMENT: frozenset({Status.SUBMITTED, Status.CANCELLED}),
    Status.SUBMITTED: frozenset(
        {Status.IN_REVIEW, Status.NEEDS_INFO, Status.CANCELLED, Status.REFUNDED}
    ),
    Status.NEEDS_INFO: frozenset({Status.SUBMITTED, Status.CANCELLED, Status.REFUNDED}),
    Status.IN_REVIEW: frozenset({Status.OPINION_READY, Status.REFUNDED}),
    Status.OPINION_READY: frozenset({Status.DELIVERED, Status.REFUNDED}),
    Status.DELIVERED: frozenset({Status.REFUNDED}),
    # A request cancelled after it was paid is refunded next (guarded: only if it was paid).
    Status.CANCELLED: frozenset({Status.REFUNDED}),
    Status.REFUNDED: frozenset(),
}

# The moves a coordinator makes by hand in the admin. The others belong to the family
# (submit), payments (pay, refund) and the reviewers (opinion ready, delivered).
COORDINATOR_MOVES: frozenset[tuple[Status, Status]] = frozenset(
    {
        (Status.SUBMITTED, Status.IN_REVIEW),
        (Status.SUBMITTED, Status.NEEDS_INFO),
        (Status.NEEDS_INFO, Status.SUBMITTED),
        (Status.DRAFT, Status.CANCELLED),
        (Status.AWAITING_PAYMENT, Status.CANCELLED),
        (Status.SUBMITTED, Status.CANCELLED),
        (Status.NEEDS_INFO, Status.CANCELLED),
    }
)

# Moves that must say why: the family reads the note on its status page.
NOTE_REQUIRED = frozenset({Status.NEEDS_INFO, Status.CANCELLED})

# Moves the family hears about by e-mail (what changed is on the status page, not in the mail):
# the fee received, records confirmed, a question, the opinion delivered, a cancellation, a
# refund.
FAMILY_NOTIFIED_MOVES = frozenset(
    {
        (Status.AWAITING_PAYMENT, Status.SUBMITTED),
        (Status.SUBMITTED, Status.IN_REVIEW),
        (Status.SUBMITTED, Status.NEEDS_INFO),
        (Status.OPINION_READY, Status.DELIVERED),
    }
)
FAMILY_NOTIFIED_ARRIVALS = frozenset({Status.CANCELLED, Status.REFUNDED})


def family_notified(from_status: Status, to_status: Status) -> bool:
    return (
        to_status in FAMILY_NOTIFIED_ARRIVALS or (from_status, to_status) in FAMILY_NOTIFIED_MOVES
    )


# The clock runs in these states, pauses in needs_info, and stops at the opinion.
CLOCK_RUNNING = frozenset({Status.SUBMITTED, Status.IN_REVIEW})

# How the family's timeline says each move, in plain language.
FAMILY_TIMELINE = {
    Status.DRAFT: _("You started this request."),
    Status.AWAITING_PAYMENT: _("You sent your request. The fee is due next."),
    Status.SUBMITTED: _("Your request is complete and paid. The review clock is running."),
    Status.NEEDS_INFO: _("The team asked you for more information."),
    Status.IN_REVIEW: _("The team confirmed it has received your records; the review has started."),
    Status.OPINION_READY: _("The written opinion is ready; your coordinator will contact you."),
    Status.DELIVERED: _("Your written opinion was delivered."),
    Status.CANCELLED: _("This request was cancelled."),
    Status.REFUNDED: _("Your fee was refunded."),
}


def add_days(moment: datetime, days: int, time_zone: str) -> datetime:
    """``days`` calendar days after ``moment`` on the department's clock: 10:00 on a Monday
    is due 10:00 the Monday after, even when a daylight-saving change lies in between (that
    week is then 167 or 169 hours long). Returned in UTC."""
    local = moment.astimezone(ZoneInfo(time_zone))
    # Arithmetic on an aware datetime keeps the wall time; the offset is recomputed after.
    return (local + timedelta(days=days)).astimezone(UTC)


def due_dates(
    submitted_at: datetime, *, target_days: int, limit_days: int, time_zone: str
) -> tuple[datetime, datetime]:
    """The target (the promise, e.g. 7 days) and the limit (e.g. 10 days) of a review."""
    return (
        add_days(submitted_at, target_days, time_zone),
        add_days(submitted_at, limit_days, time_zone),
    )
