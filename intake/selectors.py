"""Every read of the catalogue and of review requests. Requests are reached only through
``review_requests_for_user``: someone else's request is indistinguishable from a missing one."""

import dataclasses
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from intake.clock import Countdown, DayCount, countdown, due_before
from intake.eligibility import EligibilityAnswers, check_eligibility
from intake.lifecycle import Status
from intake.models import (
    ConsentSignature,
    ConsentText,
    DeliveryDay,
    Department,
    DocumentKind,
    Guardian,
    Invitation,
    Questionnaire,
    QuestionnaireAnswers,
    ReferringPediatrician,
    RequestEvent,
    ReviewDays,
    ReviewRequest,
    ReviewService,
    SharedAccess,
)
from intake.models.catalogue import document_kind_in_sentence, localized


def catalogue_departments() -> QuerySet[Department]:
    """Active departments, each with its active review services, in two queries."""
    services = ReviewService.objects.filter(active=True).order_by("name")
    return (
        Department.objects.filter(active=True)
        .prefetch_related(Prefetch("services", queryset=services, to_attr="active_services"))
        .order_by("name")
    )


def questionnaire_current(*, service: ReviewService) -> Questionnaire | None:
    """The published version new requests answer (the highest published version)."""
    return (
        service.questionnaires.filter(published_at__isnull=False)
        .order_by("-version")
        .prefetch_related("questions")
        .first()
    )


def consent_text_current() -> ConsentText | None:
    return ConsentText.objects.filter(published_at__isnull=False).order_by("-version").first()


def review_requests_for_user(*, user: User) -> QuerySet[ReviewRequest]:
    """The requests ``user`` may see: a family its own, a reviewer those assigned to them now,
    coordinators and admins all of them, anyone else none."""
    requests = ReviewRequest.objects.select_related("service__department")
    if not (user.is_authenticated and user.is_active):
        return requests.none()
    if user.sees_all_requests:
        return requests
    if user.is_reviewer:
        # One active assignment per reviewer and request (a database rule): no duplicates.
        return requests.filter(assignments__reviewer=user, assignments__removed_at__isnull=True)
    if user.is_family:
        # Their own requests, and those a guardian shared with them (never removed access):
        # a union of two index reads (an OR across the two would read every request).
        own = ReviewRequest.objects.filter(family=user).values("pk")
        return requests.filter(pk__in=own.union(_shared_with(user)))
    return requests.none()


def _shared_with(user: User) -> QuerySet:
    return SharedAccess.objects.filter(user=user, removed_at__isnull=True).values("request")


def review_request_get_for_user(*, user: User, reference: str) -> ReviewRequest:
    try:
        return review_requests_for_user(user=user).get(reference=reference)
    except ReviewRequest.DoesNotExist:
        raise Http404 from None


def review_request_get_for_family(*, user: User, reference: str) -> ReviewRequest:
    """The request if ``user`` is one of its guardians: the family that owns it, or a second
    guardian it was shared with (only they fill in the wizard and add files); 404 for
    everyone else, staff included."""
    review_request = review_request_get_for_user(user=user, reference=reference)
    if not is_guardian(review_request=review_request, user=user):
        raise Http404
    return review_request


def review_request_get_for_primary(*, user: User, reference: str) -> ReviewRequest:
    """The request if ``user`` is its primary guardian (who decides who else may see it);
    404 for everyone else, a second guardian included."""
    review_request = review_request_get_for_user(user=user, reference=reference)
    if review_request.family_id != user.pk:
        raise Http404
    return review_request


def pediatrician_email(*, review_request: ReviewRequest) -> str:
    """The referring pediatrician's e-mail as the family gave it ("" if none)."""
    return (
        ReferringPediatrician.objects.filter(request=review_request)
        .values_list("email", flat=True)
        .first()
        or ""
    )


def guardian_email(*, review_request: ReviewRequest) -> str:
    return (
        Guardian.objects.filter(request=review_request).values_list("email", flat=True).first()
        or ""
    )


def shared_access_for(*, review_request: ReviewRequest, user: User) -> SharedAccess | None:
    """``user``'s active second-guardian access to the request, if any."""
    if not user.is_authenticated:
        return None
    return SharedAccess.objects.filter(
        request=review_request, user=user, removed_at__isnull=True
    ).first()


def is_guardian(*, review_request: ReviewRequest, user: User) -> bool:
    """Whether ``user`` is the request's primary guardian or an active second guardian."""
    if not (user.is_authenticated and user.is_active and user.is_family):
        return False
    if review_request.family_id == user.pk:
        return True
    return shared_access_for(review_request=review_request, user=user) is not None


def shared_accesses(*, review_request: ReviewRequest) -> QuerySet[SharedAccess]:
    """The second guardians of a request, current ones first, with who removed the others."""
    return review_request.shared_accesses.select_related("user", "removed_by").order_by(
        F("removed_at").desc(nulls_first=True), "granted_at"
    )


def links_unused(*, review_request: ReviewRequest, now=None) -> QuerySet[Invitation]:
    """A request's invitations and upload links neither used nor withdrawn, the latest
    first; with ``now``, only those that still work then (not expired)."""
    links = review_request.invitations.unused()
    if now is not None:
        links = links.working(now)
    return links.select_related("created_by").order_by("-created_at")


def invitation_open_of(*, review_request: ReviewRequest, kind: str) -> Invitation | None:
    """The request's open (not used, not revoked) invitation of ``kind``, expired or not."""
    return review_request.invitations.unused().filter(kind=kind).first()


def last_question(*, review_request: ReviewRequest) -> RequestEvent | None:
    """The team's latest request for information (its note is the question)."""
    return (
        review_request.events.filter(to_status="needs_info").order_by("-created_at", "-pk").first()
    )


def questionnaire_answered(*, answers: QuestionnaireAnswers) -> list[tuple[str, str]]:
    """Each question of the version answered, with its answer ("" if none), in order."""
    questions = answers.questionnaire.questions.order_by("position", "pk")
    return [(question.text, answers.answers.get(question.key, "")) for question in questions]


def request_timeline(*, review_request: ReviewRequest) -> QuerySet[RequestEvent]:
    return review_request.events.select_related("request").order_by("created_at", "pk")


@dataclass(frozen=True)
class ChecklistItem:
    """One line of the completeness checklist; ``step`` is the wizard step that fixes it."""

    step: str
    label: str
    done: bool
    missing: tuple[str, ...] = ()


def _related(request: ReviewRequest, name: str):
    try:
        return getattr(request, name)
    except ObjectDoesNotExist:
        return None


def submission_checklist(*, review_request: ReviewRequest) -> list[ChecklistItem]:
    """Everything a request needs before it can be sent, each with what is still missing,
    in the order of the wizard. A few queries whatever the size of the request."""
    service = review_request.service
    guardian = _related(review_request, "guardian")
    child = _related(review_request, "child")
    pediatrician = _related(review_request, "referring_pediatrician")
    guardian_missing = guardian.missing if guardian else [_("your details")]
    child_missing = child.missing if child else [_("your child's details")]
    items = [
        ChecklistItem("guardian", _("Your details"), not guardian_missing, tuple(guardian_missing)),
        ChecklistItem("child", _("Your child's details"), not child_missing, tuple(child_missing)),
        _eligibility_item(service, review_request, guardian, child),
        _questionnaire_item(review_request),
        ChecklistItem(
            "consent",
            _("Financial consent signed"),
            ConsentSignature.objects.filter(request=review_request).exists(),
            (_("your signature"),),
        ),
    ]
    pediatrician_missing = (
        pediatrician.missing if pediatrician else [_("the pediatrician's details")]
    )
    items.append(
        ChecklistItem(
            "referral",
            _("Referring pediatrician"),
            not pediatrician_missing,
            tuple(pediatrician_missing),
        )
    )
    present = set(review_request.documents.values_list("kind", flat=True).distinct())
    for kind in service.required_documents:
        step = "referral" if kind == DocumentKind.REFERRAL else "documents"
        label = DocumentKind(kind).label
        items.append(
            ChecklistItem(
                step,
                label,
                kind in present,
                (_("at least one file: %(kind)s") % {"kind": document_kind_in_sentence(kind)},),
            )
        )
    return [item if not item.done else ChecklistItem(item.step, item.label, True) for item in items]


def _eligibility_item(service, review_request, guardian, child) -> ChecklistItem:
    label = _("Eligible for this review")
    if not (guardian and guardian.state and guardian.zip_code):
        missing = (_("your state and ZIP code, to check eligibility"),)
        return ChecklistItem("guardian", label, False, missing)
    if not (child and child.date_of_birth):
        missing = (_("your child's date of birth, to check eligibility"),)
        return ChecklistItem("child", label, False, missing)
    answers = EligibilityAnswers(
        state=guardian.state,
        zip_code=guardian.zip_code,
        patient_age=child.age_on(timezone.localdate()),
        hospitalized=bool(review_request.eligibility.get("hospitalized")),
    )
    result = check_eligibility(service, answers)
    # Said on the step where it can be put right: the child's, when only the age is at odds.
    only_the_age = not result.eligible and (
        check_eligibility(service, dataclasses.replace(answers, patient_age=0)).eligible
    )
    step = "child" if only_the_age else "guardian"
    # Each reason is a sentence; the list shows them inside one ("Still needed here: …").
    reasons = tuple(reason.rstrip(".") for reason in result.reasons)
    return ChecklistItem(step, label, result.eligible, reasons)


def _questionnaire_item(review_request: ReviewRequest) -> ChecklistItem:
    answers = _related(review_request, "questionnaire_answers")
    questionnaire = (
        answers.questionnaire if answers else questionnaire_current(service=review_request.service)
    )
    given = answers.answers if answers else {}
    missing = tuple(
        localized(question, "text")
        for question in (questionnaire.questions.all() if questionnaire else [])
        if question.required and question.key not in given
    )
    if questionnaire is None:
        missing = (_("the questionnaire is not available yet"),)
    return ChecklistItem("questionnaire", _("Medical-history questionnaire"), not missing, missing)


def request_summary(*, review_request: ReviewRequest) -> dict:
    """Everything the family entered, for the review-and-send page: each step's details,
    and the answers next to the question texts of the version answered."""
    answers = _related(review_request, "questionnaire_answers")
    questions = answers.questionnaire.questions.order_by("position", "pk") if answers else []
    return {
        "guardian": _related(review_request, "guardian"),
        "child": _related(review_request, "child"),
        "pediatrician": _related(review_request, "referring_pediatrician"),
        "signature": ConsentSignature.objects.filter(request=review_request).first(),
        "answers": [
            (
                localized(question, "text"),
                _answer_shown(question, answers.answers.get(question.key)),
            )
            for question in questions
        ],
    }


def _answer_shown(question, answer: str | None) -> str:
    """A stored answer as the family reads it: yes/no and choices in the page's language."""
    if not answer:
        return ""
    if question.kind == question.Kind.YES_NO:
        return str(_("Yes") if answer == "yes" else _("No"))
    return dict(question.choice_options()).get(answer, answer)


# --- The coordinators' dashboard ------------------------------------------------------------

# The queues a coordinator works through, in the order of the lifecycle.
OPEN_QUEUES = (
    Status.AWAITING_PAYMENT,
    Status.SUBMITTED,
    Status.NEEDS_INFO,
    Status.IN_REVIEW,
    Status.OPINION_READY,
)


def request_queue_counts() -> dict[str, int]:
    """How many requests wait in each open status (zero included), in one grouped query.
    Only open statuses are read, so the status index skips every finished request; rows are
    counted, not ids, so PostgreSQL answers from the index alone (an index-only scan)."""
    rows = (
        ReviewRequest.objects.filter(status__in=OPEN_QUEUES)
        .values("status")
        .annotate(count=Count("*"))
        .order_by()
    )
    counts = {status.value: 0 for status in OPEN_QUEUES}
    counts.update((row["status"], row["count"]) for row in rows)
    return counts


@dataclass(frozen=True)
class ReviewDue:
    """A request in review and the days left to its target, counted by the one rule
    (``intake.clock``): the reviewer and the family see the same."""

    request: ReviewRequest
    countdown: Countdown

    @property
    def overdue(self) -> bool:
        return self.countdown.overdue

    @property
    def label(self) -> str:
        return self.countdown.label


def requests_in_review_by_due(*, now: datetime, limit: int = 25) -> list[ReviewDue]:
    """The ``limit`` requests in review nearest their target, overdue ones first: one query
    on the (status, due_target_at) index, however many requests there are, and one for the
    holidays of the departments counting business days among them."""
    requests = list(
        ReviewRequest.objects.filter(status=Status.IN_REVIEW)
        .select_related("service__department")
        .order_by(F("due_target_at").asc(nulls_last=True), "pk")[:limit]
    )
    counts = request_day_counts(requests=requests, now=now)
    return [
        ReviewDue(request, countdown(request.due_target_at, now, counts[department_of(request)]))
        for request in requests
    ]


@dataclass(frozen=True)
class OnTime:
    """A service's opinions delivered in a window, and how many of them were on time."""

    service: str
    delivered: int
    within_target: int
    within_limit: int
    median_days: float | None

    @property
    def target_share(self) -> int:
        return round(100 * self.within_target / self.delivered)

    @property
    def limit_share(self) -> int:
        return round(100 * self.within_limit / self.delivered)


def on_time_by_service(*, now: datetime, windows: tuple[int, ...] = (30, 90)) -> dict:
    """For each window (the last so many days on the hospital's calendar, today included),
    per service: opinions delivered, how many by their target and by their limit (the due
    dates as moved by any pause), and the median days from submission to delivery (time
    waiting on the family included). "By" the target means on or before the target's day
    on the department's calendar: never shown overdue (``intake.clock``). One query of the
    daily figures the lifecycle service keeps (``DeliveryDay``): a row per service and day,
    however many opinions were delivered."""
    today = now.astimezone(ZoneInfo(settings.TIME_ZONE)).date()
    windows = tuple(sorted(windows))
    starts = [today - timedelta(days=days - 1) for days in windows]
    rows = (
        DeliveryDay.objects.filter(date__gte=starts[-1], delivered__gt=0)
        .values_list(
            "date",
            "service__name",
            "service_id",
            "delivered",
            "within_target",
            "within_limit",
            "seconds_taken",
        )
        .order_by()
    )
    # Each day is added once, to the shortest window holding it; a window's figures are
    # its own days' and those of every shorter window.
    shares: dict[tuple[str, int], list[list]] = {}
    for day, name, service, delivered, by_target, by_limit, taken in rows:
        tier = next(index for index, start in enumerate(starts) if day >= start)
        tiers = shares.setdefault((name, service), [[0, 0, 0, Counter()] for _ in windows])
        line = tiers[tier]
        line[0] += delivered
        line[1] += by_target
        line[2] += by_limit
        line[3].update(taken)  # {"<seconds>": how many}
    figures: dict[int, list[OnTime]] = {days: [] for days in windows}
    for (name, _service), tiers in sorted(shares.items()):
        delivered, by_target, by_limit, taken = 0, 0, 0, Counter()
        for days, (n, target, limit, seconds) in zip(windows, tiers, strict=True):
            delivered, by_target, by_limit = delivered + n, by_target + target, by_limit + limit
            taken.update(seconds)
            if delivered:
                figures[days].append(
                    OnTime(name, delivered, by_target, by_limit, _median(taken) / 86400)
                )
    return figures


def _median(counts: Counter) -> float:
    """The median of the numbers counted in ``counts`` ({"<number>": how many})."""
    total = sum(counts.values())
    middle = [(total - 1) // 2, total // 2]  # the one or two middle places, from 0
    found, seen = [], 0
    for value in sorted(counts, key=int):
        while middle and middle[0] < seen + counts[value]:
            found.append(int(value))
            middle.pop(0)
        seen += counts[value]
    return sum(found) / 2


# --- The phone-led funnel ---------------------------------------------------------------------


@dataclass(frozen=True)
class PhoneLed:
    """A request a coordinator started, and how far the family has come with it."""

    request: ReviewRequest
    invitation: Invitation | None
    stage: str  # one of FUNNEL_STAGES
    reminders: int

    @property
    def stage_label(self) -> str:
        return dict(FUNNEL_STAGES)[self.stage]


FUNNEL_STAGES = (
    ("not_invited", "Not invited yet"),
    ("invite_expired", "Invitation expired or withdrawn"),
    ("invited", "Invited, not opened"),
    ("opened", "Invitation opened, not accepted"),
    ("documents_pending", "Joined; request not sent yet"),
    ("complete", "Sent"),
    ("cancelled", "Cancelled"),
)


def phone_led_requests(*, now: datetime, limit: int = 50, offset: int = 0) -> list[PhoneLed]:
    """The requests coordinators started, newest first, each at its stage of the funnel, so
    no family is forgotten: ``limit`` of them after the ``offset`` newest, in two queries
    whatever the number."""
    # Those ids first, from the (created_by, created_at) index alone; then only those rows
    # are read with what the page shows.
    newest = (
        ReviewRequest.objects.filter(
            created_by__in=User.objects.filter(role__in=[Role.COORDINATOR, Role.ADMIN])
        )
        .order_by("-created_at", "-pk")
        .values("pk")[offset : offset + limit]
    )
    requests = list(
        ReviewRequest.objects.filter(pk__in=newest)
        .select_related("service", "created_by", "guardian")
        .order_by("-created_at", "-pk")
    )
    invitations = {}
    for invitation in (
        Invitation.objects.filter(
            request__in=[request.pk for request in requests], kind=Invitation.Kind.FAMILY
        )
        .annotate(reminder_count=Count("reminders"))
        .order_by("created_at")
    ):
        invitations[invitation.request_id] = invitation  # the latest one wins
    return [_funnel_line(request, invitations.get(request.pk), now) for request in requests]


def _funnel_line(request: ReviewRequest, invitation: Invitation | None, now) -> PhoneLed:
    reminders = invitation.reminder_count if invitation else 0
    if request.status == Status.CANCELLED and request.submitted_at is None:
        stage = "cancelled"
    elif request.status != Status.DRAFT:
        stage = "complete"
    elif request.family_id is not None:
        stage = "documents_pending"
    elif invitation is None:
        stage = "not_invited"
    elif invitation.state_at(now) in {"expired", "revoked"}:
        stage = "invite_expired"
    else:
        stage = "opened" if invitation.opened_at else "invited"
    return PhoneLed(request, invitation, stage, reminders)


def phone_led_counts(lines: list[PhoneLed]) -> list[tuple[str, str, int]]:
    """How many requests are at each stage (the funnel's header)."""
    counts = Counter(line.stage for line in lines)
    return [(stage, label, counts[stage]) for stage, label in FUNNEL_STAGES]


# --- The review clock: days left, by the one rule (intake.clock) -----------------------------


def _holidays(*, department_ids: list[int], start: date, end: date) -> dict[int, set[date]]:
    # The holidays live in scheduling's call calendar, which intake may not import (DESIGN
    # §2): the function that reads them is named by a setting, as the admin finds the
    # dashboard (docs/decisions.md, "One clock for days left").
    return import_string(settings.REVIEW_HOLIDAYS)(
        department_ids=department_ids, start=start, end=end
    )


def day_counts_for(
    *, departments: Iterable[Department], start: date | None = None, end: date | None = None
) -> dict[int, DayCount]:
    """How each department counts days, by its id. Departments counting business days get
    their holidays from ``start`` to ``end`` in one query (none when no department counts
    business days, or without dates: enough to tell what is overdue, which holidays never
    change)."""
    departments = {department.pk: department for department in departments}
    business = [pk for pk, dept in departments.items() if dept.review_days == ReviewDays.BUSINESS]
    holidays = (
        _holidays(department_ids=business, start=start, end=end)
        if business and start is not None and end is not None
        else {}
    )
    return {
        pk: DayCount(department.time_zone, pk in business, frozenset(holidays.get(pk, ())))
        for pk, department in departments.items()
    }


def department_of(request: ReviewRequest) -> int:
    return request.service.department_id


# A day either side of the UTC dates covers every time zone; a month before the earliest lets
# the sweep walk back from a due date to the day its reminder fell on.
_MARGIN = timedelta(days=31)


def request_day_counts(*, requests: Iterable[ReviewRequest], now: datetime) -> dict[int, DayCount]:
    """How the departments of ``requests`` count days (their service and department loaded),
    with the holidays between ``now`` and their due dates: at most one query."""
    requests = list(requests)
    moments = [now]
    for request in requests:
        moments += [moment for moment in (request.due_target_at, request.due_limit_at) if moment]
    return day_counts_for(
        departments={request.service.department for request in requests},
        start=min(moments).date() - _MARGIN,
        end=max(moments).date() + _MARGIN,
    )


def review_countdown(*, review_request: ReviewRequest, now: datetime) -> Countdown | None:
    """The days left to the request's target while its clock runs (submitted or in review),
    else None: what the family's status page and the reviewer's case page show."""
    if not review_request.clock_running or review_request.due_target_at is None:
        return None
    counts = request_day_counts(requests=[review_request], now=now)
    return countdown(review_request.due_target_at, now, counts[department_of(review_request)])


def due_within(*, counts: dict[int, DayCount], now: datetime, days: int, field: str) -> Q:
    """The rows whose due date ``field`` ("due_target_at", or through a relation,
    "request__due_limit_at") has at most ``days`` days left at ``now``, each by its
    department's count in ``counts`` (every department, with the holidays ahead when
    ``days`` is positive). Overdue is ``days=-1``. One condition per distinct cut-off, all
    under the latest, so the database reads the due date's index as one range."""
    path, _, _ = field.rpartition("__")
    department = f"{path}__service__department" if path else "service__department"
    cutoffs: dict[datetime, list[int]] = {}
    for pk, count in counts.items():
        cutoffs.setdefault(due_before(now, days, count), []).append(pk)
    if not cutoffs:
        return Q(pk__in=[])
    each = Q()
    for cutoff, departments in cutoffs.items():
        each |= Q(**{f"{department}__in": departments, f"{field}__lt": cutoff})
    return Q(**{f"{field}__lt": max(cutoffs)}) & each


def department_day_counts(*, start: date | None = None, end: date | None = None) -> dict:
    """Every department's count of days (one query), with the holidays from ``start`` to
    ``end`` of those counting business days (one more): for ``due_within``."""
    departments = Department.objects.only("pk", "time_zone", "review_days")
    return day_counts_for(departments=departments, start=start, end=end)
