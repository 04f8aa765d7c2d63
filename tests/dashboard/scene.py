"""A hospital's data at any size, and the pages people open all day on it: for the page
benchmark (bench/pages.py) and the test that each page costs the same queries at two sizes
(tests/dashboard/test_pages_at_scale.py).

The fill is tests/dashboard/bulk.py's mix, with a family for every three requests, one request
in twenty started on the phone, the access log of what reviewers and families opened, and a
call history. Three people open the pages, and what is theirs stays the same size whatever
the hospital's: the coordinator (sees everything), a reviewer with five cases open and a
twentieth of every delivered review behind them (a history that grows with the data), and a
family with three requests."""

from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role, User
from accounts.services import user_set_role
from config.dashboard import _due_order
from intake.lifecycle import Status
from intake.models import Department, ReviewService
from reviews.models import ReviewAssignment
from tests.dashboard.bulk import calls_bulk, calls_history_bulk, requests_bulk

FAMILY_EVERY = 3
# The family's three requests: numbers whose place in bulk.STATUS_CYCLE is in review (two)
# and opinion ready, far above any fill's numbers.
FAMILY_FIRST = 10**9 + 4
OPEN_CASES = 5


@dataclass
class Scene:
    now: datetime
    coordinator: User
    reviewer: User
    family: User
    reviewers: list[User]
    services: list[ReviewService]
    departments: list[Department]
    requests: int = 0

    @property
    def case_reference(self) -> str:
        """The family's first request, in review with the reviewer on its panel."""
        return f"BK{FAMILY_FIRST:010d}"


def person(email: str, role: str, *, device: bool = False) -> User:
    user = User.objects.create_user(email=email, password=None, full_name=email.split("@")[0])
    user_set_role(user=user, role=role)
    if device:
        TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)
    return user


def scene_build(*, count: int, now: datetime) -> Scene:
    coordinator = person("coordinator@example.org", Role.COORDINATOR, device=True)
    reviewers = [person(f"reviewer{n}@example.org", Role.REVIEWER) for n in range(20)]
    reviewer = person("reviewer.persona@example.org", Role.REVIEWER, device=True)
    family = person("family.persona@example.org", Role.FAMILY)
    departments = [
        Department.objects.create(name=name, slug=name.lower(), phone="404-555-0110")
        for name in ("Orthopedics", "Cardiology")
    ]
    services = [
        ReviewService.objects.create(
            department=departments[n % 2],
            name=name,
            slug=name.lower().replace(" ", "-"),
            summary="A written opinion.",
            readers="program leaders",
            fee_cents=fee,
            reviewers_required=readers,
        )
        for n, (name, fee, readers) in enumerate(
            (
                ("Spine document review", 50000, 3),
                ("Hip document review", 16700, 1),
                ("Heart document review", 40000, 1),
            )
        )
    ]
    scene = Scene(now, coordinator, reviewer, family, reviewers, services, departments)
    requests_bulk(
        count=3,
        now=now,
        family=family,
        services=services,
        reviewers=reviewers,
        start=FAMILY_FIRST,
        access_log=True,
    )
    calls_bulk(department=departments[0], coordinator=coordinator, day=now.date(), count=6)
    scene_grow(scene, count=count)
    return scene


def scene_grow(scene: Scene, *, count: int) -> None:
    """``count`` more requests (and a call for every ten), and the reviewer's share of the
    new history; the reviewer's open cases stay five (the family's in-review request among
    them)."""
    start = scene.requests
    requests_bulk(
        count=count,
        now=scene.now,
        family=scene.family,
        services=scene.services,
        reviewers=scene.reviewers,
        start=start,
        family_every=FAMILY_EVERY,
        started_by=scene.coordinator,
        access_log=True,
    )
    calls_history_bulk(
        department=scene.departments[1],
        coordinator=scene.coordinator,
        now=scene.now,
        count=(start + count) // 10 - start // 10,
        first=start // 10,
    )
    scene.requests += count
    new = ReviewAssignment.objects.filter(
        request__reference__gte=f"BK{start:010d}",
        request__reference__lt=f"BK{start + count:010d}",
    )
    # A twentieth of the reviews delivered becomes the reviewer's history.
    history = new.filter(request__status=Status.DELIVERED).values_list("pk", flat=True)
    ReviewAssignment.objects.filter(pk__in=[pk for pk in history if pk % 20 == 3]).update(
        reviewer=scene.reviewer
    )
    mine = ReviewAssignment.objects.filter(
        reviewer=scene.reviewer, request__status__in=[Status.IN_REVIEW, Status.OPINION_READY]
    )
    wanted = OPEN_CASES - mine.count()
    if wanted > 0:
        family_case = ReviewAssignment.objects.filter(request__reference=scene.case_reference)
        family_case.update(reviewer=scene.reviewer)
        others = new.filter(request__status=Status.IN_REVIEW).order_by("pk")
        picked = list(others.values_list("pk", flat=True)[: OPEN_CASES - mine.count()])
        ReviewAssignment.objects.filter(pk__in=picked).update(reviewer=scene.reviewer)


# (page, who opens it, its address).
def pages(scene: Scene) -> list[tuple[str, str, str]]:
    requests = reverse("admin:intake_reviewrequest_changelist")
    return [
        ("Dashboard", "coordinator", reverse("admin:index")),
        ("Requests", "coordinator", requests),
        ("Requests: search by reference", "coordinator", f"{requests}?q=BK0000000005"),
        ("Requests: search by e-mail", "coordinator", f"{requests}?q=family1%40example.org"),
        # Delivered: a full page of them at every size, so that the two sizes render as
        # many rows (at 1,000 requests only 20 are in review).
        ("Requests: status filter", "coordinator", f"{requests}?status__exact=delivered"),
        ("Requests: by deadline", "coordinator", f"{requests}?o={_due_order()['o']}"),
        ("Payments", "coordinator", reverse("admin:billing_payment_changelist")),
        ("Bookings", "coordinator", reverse("admin:scheduling_booking_changelist")),
        ("Access log", "coordinator", reverse("admin:records_accesslog_changelist")),
        ("Phone-led funnel", "coordinator", reverse("admin:intake_reviewrequest_funnel")),
        ("My reviews", "reviewer", reverse("reviews:my_reviews")),
        ("Case page", "reviewer", reverse("reviews:case", args=[scene.case_reference])),
        ("My requests", "family", reverse("intake:my_requests")),
        ("Status page", "family", reverse("intake:request_detail", args=[scene.case_reference])),
    ]
