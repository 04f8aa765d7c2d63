"""Every read of panels and opinions. A reviewer reaches a request only through
``intake.selectors.review_requests_for_user`` (their active assignments)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import dateformat, timezone

from accounts.models import Role, User
from intake.clock import Countdown, countdown
from intake.lifecycle import CLOCK_RUNNING, Status
from intake.models import (
    Child,
    ConsentSignature,
    Department,
    DocumentKind,
    Guardian,
    QuestionnaireAnswers,
    ReviewRequest,
)
from intake.selectors import (
    department_day_counts,
    department_of,
    due_within,
    questionnaire_answered,
    request_day_counts,
    review_request_get_for_user,
)
from records.frames import VIEWABLE, study_index
from records.models import Document, Preview
from records.services import CorruptDocument
from reviews.key_images import KeyImageNote, Mark
from reviews.letter import LetterContent, PanelMember
from reviews.measurements import describe, place_of
from reviews.models import (
    Agreement,
    AlertKind,
    Conclusion,
    DeadlineAlert,
    FinalOpinion,
    FollowUpQuestion,
    KeyImage,
    Measurement,
    Opinion,
    ReviewAssignment,
)


def case_get_for_reviewer(*, user: User, reference: str) -> ReviewRequest:
    """A request on ``user``'s panel now (a removed or declined reviewer gets a 404, as for
    any request that is not theirs). Coordinators use the admin, families the status page."""
    if not user.is_reviewer:
        raise Http404
    return review_request_get_for_user(user=user, reference=reference)


def request_id_for_log(*, reference: str) -> int | None:
    """Which request a refused visit aimed at, for the access log only."""
    return ReviewRequest.objects.filter(reference=reference).values_list("pk", flat=True).first()


def assignment_for(*, review_request: ReviewRequest, user: User) -> ReviewAssignment | None:
    return ReviewAssignment.objects.filter(
        request=review_request, reviewer=user, removed_at__isnull=True
    ).first()


@dataclass(frozen=True)
class Member:
    """A reviewer on the panel now, with their newest submitted opinion and open draft."""

    assignment: ReviewAssignment
    opinion: Opinion | None
    draft: Opinion | None

    @property
    def reviewer(self) -> User:
        return self.assignment.reviewer

    @property
    def reviewer_id(self) -> int:
        return self.assignment.reviewer_id

    @property
    def is_lead(self) -> bool:
        return self.assignment.is_lead

    @property
    def submitted(self) -> bool:
        return self.opinion is not None


def panel_members(*, review_request: ReviewRequest) -> list[Member]:
    """The active panel, lead first, in two queries."""
    assignments = (
        ReviewAssignment.objects.filter(request=review_request, removed_at__isnull=True)
        .select_related("reviewer__reviewer_profile")
        .prefetch_related(Prefetch("opinions", queryset=Opinion.objects.order_by("-version")))
        .order_by("-is_lead", "assigned_at", "pk")
    )
    members = []
    for assignment in assignments:
        opinions = list(assignment.opinions.all())
        submitted = [opinion for opinion in opinions if opinion.submitted_at is not None]
        drafts = [opinion for opinion in opinions if opinion.submitted_at is None]
        members.append(
            Member(assignment, submitted[0] if submitted else None, drafts[0] if drafts else None)
        )
    return members


def panel_complete(*, review_request: ReviewRequest, members: list[Member]) -> bool:
    """Every seat of the panel is filled and every member has submitted: the lead may write
    the final opinion (a declined seat must be filled first)."""
    return len(members) == review_request.service.reviewers_required and all(
        member.submitted for member in members
    )


def panel_eligible(
    *, review_request: ReviewRequest, include_unavailable: bool = False
) -> QuerySet[User]:
    """Who may sit on the request's panel: active reviewers in the service's pool, except
    anyone who declined this request or was taken off it. Each carries ``open_reviews``
    (active assignments on requests still in review) and ``overdue_reviews``."""
    left = ReviewAssignment.objects.filter(request=review_request, removed_at__isnull=False).values(
        "reviewer"
    )
    users = User.objects.filter(
        role=Role.REVIEWER,
        is_active=True,
        reviewer_profile__services=review_request.service,
    ).exclude(pk__in=left)
    if not include_unavailable:
        users = users.filter(reviewer_profile__available=True)
    return with_load(users).select_related("reviewer_profile")


def open_assignments():
    """The rule of "an open review": an active assignment on a request in review. The panel
    suggestion and the dashboard's workload both count with it."""
    return ReviewAssignment.objects.filter(
        removed_at__isnull=True, request__status=Status.IN_REVIEW
    )


def with_load(users: QuerySet[User], now: datetime | None = None) -> QuerySet[User]:
    """``users`` with ``open_reviews`` and ``overdue_reviews`` (open, overdue by the one rule
    of days left: past the target's day on its department's clock). One query for the
    departments' clocks, made now."""
    now = now or timezone.now()
    overdue = due_within(
        counts=department_day_counts(), now=now, days=-1, field="request__due_target_at"
    )

    def counted(assignments):
        return Coalesce(
            Subquery(
                assignments.filter(reviewer=OuterRef("pk"))
                .values("reviewer")
                .annotate(total=Count("pk"))
                .values("total")
            ),
            0,
        )

    return users.annotate(
        open_reviews=counted(open_assignments()),
        overdue_reviews=counted(open_assignments().filter(overdue)),
    )


def panel_suggest(*, review_request: ReviewRequest) -> list[User]:
    """The service's number of eligible, available reviewers with the fewest open reviews
    (ties: the oldest account first). The coordinator may change any of them."""
    required = review_request.service.reviewers_required
    return list(
        panel_eligible(review_request=review_request).order_by("open_reviews", "pk")[:required]
    )


def coordinator_recipients(*, department: Department) -> list[str]:
    """Where alerts about a department's reviews go: its shared inbox, else every active
    coordinator."""
    return coordinator_recipients_for(departments=[department])[department.pk]


def coordinator_recipients_for(*, departments: Iterable[Department]) -> dict[int, list[str]]:
    """``coordinator_recipients`` of each department, by its id: at most one query, for the
    active coordinators, when one of them has no inbox."""
    departments = list(departments)
    coordinators: list[str] = []
    if any(not department.alerts_email for department in departments):
        coordinators = list(
            User.objects.filter(role=Role.COORDINATOR, is_active=True)
            .order_by("email")
            .values_list("email", flat=True)
        )
    return {
        department.pk: [department.alerts_email] if department.alerts_email else coordinators
        for department in departments
    }


def credentials_of(user: User) -> str:
    """How the reviewer signs (empty without a profile)."""
    profile = getattr(user, "reviewer_profile", None)  # None when the profile is missing
    return profile.credentials if profile else ""


def _agrees_with(opinion: Opinion, conclusion: str) -> bool:
    agrees = (
        opinion.agrees_with_diagnosis == Agreement.YES and opinion.agrees_with_plan == Agreement.YES
    )
    return agrees == (conclusion == Conclusion.AGREE)


def member_dissents(*, final_opinion: FinalOpinion) -> list[Member]:
    """Panel members whose opinion does not match the letter's conclusion."""
    if not final_opinion.conclusion:
        return []
    return [
        member
        for member in panel_members(review_request=final_opinion.request)
        if member.opinion and not _agrees_with(member.opinion, final_opinion.conclusion)
    ]


def letter_content(*, final_opinion: FinalOpinion) -> LetterContent:
    """What the opinion letter says, from the final opinion and the panel's opinions."""
    request = final_opinion.request
    child = Child.objects.filter(request=request).first() or Child(request=request)
    guardian = Guardian.objects.filter(request=request).first() or Guardian(request=request)
    signed_at = timezone.localtime(final_opinion.signed_at)
    panel = tuple(
        PanelMember(
            name=member.reviewer.full_name,
            credentials=credentials_of(member.reviewer),
            agrees_with_diagnosis=member.opinion.get_agrees_with_diagnosis_display(),
            agrees_with_plan=member.opinion.get_agrees_with_plan_display(),
        )
        for member in panel_members(review_request=request)
        if member.opinion
    )
    return LetterContent(
        reference=request.reference,
        service_name=request.service.name,
        child_name=f"{child.first_name} {child.last_name}".strip(),
        child_date_of_birth=dateformat.format(child.date_of_birth, "F j, Y")
        if child.date_of_birth
        else "",
        guardian_name=guardian.legal_name,
        conclusion=final_opinion.get_conclusion_display(),
        recommendations=final_opinion.recommendations,
        answers=final_opinion.answers,
        dissent=final_opinion.dissent,
        family_summary=final_opinion.family_summary,
        panel=panel,
        signed_name=final_opinion.signed_name,
        signed_credentials=final_opinion.signed_credentials,
        signed_at=dateformat.format(signed_at, "F j, Y, g:i A T"),
        key_images=key_image_notes(review_request=request),
    )


def _series_label(document: Document, series: int) -> str:
    try:
        found = study_index(document=document).series_at(series)
    except CorruptDocument:
        found = None
    return f"{document.original_name}, {found.label}" if found else document.original_name


def _on_panel(review_request: ReviewRequest) -> Q:
    return Q(
        reviewer__review_assignments__request=review_request,
        reviewer__review_assignments__removed_at__isnull=True,
    )


def _marks_by_image(review_request: ReviewRequest) -> dict[tuple, tuple[Mark, ...]]:
    """The panel's measurements on the case, as drawn, by (document, series, image, frame,
    reviewer), in the order they were made."""
    marks: dict[tuple, list[Mark]] = {}
    found = Measurement.objects.filter(_on_panel(review_request), document__request=review_request)
    for m in found.order_by("created_at", "pk"):
        place = (m.document_id, m.series, m.image, m.frame, m.reviewer_id)
        points = tuple((float(x), float(y)) for x, y in m.points)
        marks.setdefault(place, []).append(Mark(m.tool, points, describe(m)))
    return {place: tuple(drawn) for place, drawn in marks.items()}


def key_image_notes(*, review_request: ReviewRequest) -> tuple[KeyImageNote, ...]:
    """The panel's key images on the case (members on the panel now), study by study and
    image by image, each with the measurements its reviewer drew on it."""
    keys = (
        KeyImage.objects.filter(_on_panel(review_request), document__request=review_request)
        .select_related("reviewer", "document")
        .order_by("document__uploaded_at", "series", "image", "frame", "marked_at", "pk")
    )
    marks = _marks_by_image(review_request)
    labels: dict[tuple, str] = {}
    notes = []
    for key in keys:
        label = labels.get((key.document_id, key.series))
        if label is None:
            label = labels[key.document_id, key.series] = _series_label(key.document, key.series)
        notes.append(
            KeyImageNote(
                document_id=str(key.document_id),
                series=key.series,
                image=key.image,
                frame=key.frame,
                window=(key.window_center, key.window_width) if key.window_width else None,
                caption=f"{label}, {place_of(key).lower()}, marked by {key.reviewer.full_name}",
                marks=marks.get(
                    (key.document_id, key.series, key.image, key.frame, key.reviewer_id), ()
                ),
            )
        )
    return tuple(notes)


@dataclass(frozen=True)
class Case:
    """A line of "My reviews": the request, the reviewer's part in it, and the days left to
    its target while the review runs (``intake.clock``: what the family and the
    coordinators see too)."""

    request: ReviewRequest
    is_lead: bool
    submitted: bool
    countdown: Countdown | None

    @property
    def days_left(self) -> int | None:
        return self.countdown.days_left if self.countdown else None

    @property
    def urgency(self) -> str:
        """One of "overdue", "due-soon" or "on-track" (a finished case is on track)."""
        return self.countdown.urgency if self.countdown else "on-track"


# Finished cases (signed, delivered, waiting on the family) shown on a page of "My reviews".
FINISHED_SHOWN = 20


def reviewer_cases(*, user: User, now: datetime, page: int = 1) -> tuple[list[Case], bool]:
    """The requests on ``user``'s panels now: those whose review clock runs, the nearest
    target first, then ``FINISHED_SHOWN`` of the others (signed, delivered, waiting on the
    family), the latest assigned first, from ``page``; and whether older ones follow. Two
    queries (and one for the holidays of departments counting business days) whatever the
    length of the reviewer's history: the finished ones are read newest first from the
    reviewer's index and cut short, so a long history never pushes the work at hand down
    the page nor slows it."""
    mine = (
        ReviewAssignment.objects.filter(reviewer=user, removed_at__isnull=True)
        .select_related("request__service__department")
        .annotate(
            # A subquery, not a count over a join: no grouping, so the finished cases can be
            # read in index order and stop at a page.
            submitted=Exists(
                Opinion.objects.filter(assignment=OuterRef("pk"), submitted_at__isnull=False)
            ),
        )
    )
    running = list(
        mine.filter(request__status__in=CLOCK_RUNNING).order_by(
            "request__due_target_at", "request__created_at"
        )
    )
    first = (max(page, 1) - 1) * FINISHED_SHOWN
    # The others by the assignments alone (those listed above left out), so the database
    # walks the reviewer's index newest first and stops at the page, never joining the
    # reviewer's whole history to the requests.
    page_ids = (
        ReviewAssignment.objects.filter(reviewer=user, removed_at__isnull=True)
        .exclude(pk__in=[assignment.pk for assignment in running])
        .order_by("-assigned_at", "-pk")
        .values("pk")[first : first + FINISHED_SHOWN + 1]
    )
    finished = list(mine.filter(pk__in=page_ids).order_by("-assigned_at", "-pk"))
    counts = request_day_counts(requests=[a.request for a in running], now=now)
    cases = [
        Case(
            assignment.request,
            assignment.is_lead,
            bool(assignment.submitted),
            _countdown(assignment.request, now, counts),
        )
        for assignment in running + finished[:FINISHED_SHOWN]
    ]
    return cases, len(finished) > FINISHED_SHOWN


def _countdown(request: ReviewRequest, now: datetime, counts) -> Countdown | None:
    if not request.clock_running:
        return None
    return countdown(request.due_target_at, now, counts[department_of(request)])


def case_file(*, review_request: ReviewRequest) -> dict:
    """What the panel reads, beyond the request itself: the child (age, not more than
    needed), the guardian's relationship, the questionnaire as answered (with the question
    texts of that version), the consent, and every document with all its previews."""
    child = Child.objects.filter(request=review_request).first()
    answers = (
        QuestionnaireAnswers.objects.filter(request=review_request)
        .select_related("questionnaire")
        .first()
    )
    answered = questionnaire_answered(answers=answers) if answers else []
    previews = Preview.objects.order_by("series", "position")
    documents = (
        review_request.documents.exclude(kind=DocumentKind.OPINION)
        .prefetch_related(Prefetch("previews", queryset=previews, to_attr="all_previews"))
        .order_by("kind", "uploaded_at")
    )
    return {
        "child": child,
        "child_age": child.age_on(timezone.localdate()) if child else None,
        "answered": answered,
        "consent": ConsentSignature.objects.filter(request=review_request)
        .select_related("consent_text")
        .first(),
        "documents": documents,
    }


def imaging_of_case(*, review_request: ReviewRequest, document_id) -> Document:
    """A DICOM file or ZIP study sent with the case; 404 for anything else."""
    try:
        return review_request.documents.get(pk=document_id, file_type__in=VIEWABLE)
    except (Document.DoesNotExist, ValueError):
        raise Http404 from None


def _by_the_panel(items: QuerySet, document: Document) -> QuerySet:
    """Rows made by the reviewers on the document's panel now (one active assignment per
    reviewer and request: no duplicates)."""
    return items.filter(
        document=document,
        reviewer__review_assignments__request_id=document.request_id,
        reviewer__review_assignments__removed_at__isnull=True,
    ).select_related("reviewer")


def panel_measurements(*, document: Document) -> QuerySet[Measurement]:
    """The panel's measurements on a document, image by image, in the order drawn."""
    return _by_the_panel(Measurement.objects, document).order_by(
        "series", "image", "frame", "created_at", "pk"
    )


def panel_key_images(*, document: Document) -> QuerySet[KeyImage]:
    return _by_the_panel(KeyImage.objects, document).order_by(
        "series", "image", "frame", "marked_at", "pk"
    )


def measurement_get(*, document: Document, measurement_id) -> Measurement:
    try:
        return Measurement.objects.select_related("document").get(
            pk=measurement_id, document=document
        )
    except (Measurement.DoesNotExist, ValueError):
        raise Http404 from None


def case_citations(*, review_request: ReviewRequest) -> list[str]:
    """Each measurement the panel made on the case's imaging, as an opinion cites it: what
    it says, where it is and who measured it."""
    found = (
        Measurement.objects.filter(_on_panel(review_request), document__request=review_request)
        .select_related("reviewer", "document")
        .order_by("document__uploaded_at", "series", "image", "frame", "created_at", "pk")
    )
    return [
        f"{describe(m)} ({m.document.original_name}, {place_of(m).lower()}; "
        f"measured by {m.reviewer.full_name})"
        for m in found
    ]


def follow_ups_of(*, review_request: ReviewRequest) -> QuerySet[FollowUpQuestion]:
    return review_request.follow_ups.order_by("asked_at", "pk")


# --- The coordinators' dashboard ------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """A reviewer's open assignments (on their panel, the request in review) and how many
    of those are past the request's target: the same rule as the load the panel suggestion
    weighs (``with_load``)."""

    reviewer: User
    open_assignments: int
    overdue_assignments: int


def reviewer_workload(*, now: datetime) -> list[Workload]:
    """Every active reviewer, the busiest first, with their open and overdue assignments
    (overdue by the one rule of days left). Three queries: the departments' clocks, the
    reviewers, and the counts grouped from the requests in review (the status index), never
    from every assignment ever made."""
    overdue = due_within(
        counts=department_day_counts(), now=now, days=-1, field="request__due_target_at"
    )
    reviewers = User.objects.filter(role=Role.REVIEWER, is_active=True)
    counts = {
        row["reviewer"]: row
        for row in open_assignments()
        .values("reviewer")
        # Counting the reviewer column, not the id, lets PostgreSQL read each request's
        # active assignments from the one-active-per-reviewer index alone.
        .annotate(open=Count("reviewer"), overdue=Count("reviewer", filter=overdue))
        .order_by()
    }
    rows = [
        Workload(
            reviewer,
            counts.get(reviewer.pk, {}).get("open", 0),
            counts.get(reviewer.pk, {}).get("overdue", 0),
        )
        for reviewer in reviewers
    ]
    return sorted(
        rows,
        key=lambda row: (-row.overdue_assignments, -row.open_assignments, row.reviewer.email),
    )


# A breach stays on the coordinators' dashboard until the opinion reaches the family (or
# the request ends without one).
BREACH_CLOSED = frozenset({Status.DELIVERED, Status.REFUNDED, Status.CANCELLED})


def requests_not_closed() -> QuerySet[ReviewRequest]:
    """The ids of the requests a breach stays open on, for ``request__in``: found on the
    status index alone."""
    return ReviewRequest.objects.filter(
        status__in=[status for status in Status if status not in BREACH_CLOSED]
    ).values("pk")


def deadline_breaches_open() -> QuerySet[DeadlineAlert]:
    """Breach alerts of requests not delivered yet, the oldest breach first, with their
    request, service and department. The open requests are found on the status index alone
    (the statuses named rather than excluded), and only the breaches among them are read,
    never every request ever delivered."""
    return (
        DeadlineAlert.objects.filter(kind=AlertKind.BREACH, request__in=requests_not_closed())
        .select_related("request__service__department")
        .order_by("threshold_at", "pk")
    )
