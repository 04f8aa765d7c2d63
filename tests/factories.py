"""Test data. Requests are built through the lifecycle service, never by writing a status."""

import factory
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role, User
from accounts.services import user_set_role
from intake import services as intake_services
from intake.lifecycle import Status
from intake.models import Department, ReviewService

PASSWORD = "correct horse battery staple"

# The moves that lead from draft to each status, in order.
PATH_TO = {
    Status.DRAFT: [],
    Status.AWAITING_PAYMENT: [Status.AWAITING_PAYMENT],
    Status.SUBMITTED: [Status.AWAITING_PAYMENT, Status.SUBMITTED],
    Status.NEEDS_INFO: [Status.AWAITING_PAYMENT, Status.SUBMITTED, Status.NEEDS_INFO],
    Status.IN_REVIEW: [Status.AWAITING_PAYMENT, Status.SUBMITTED, Status.IN_REVIEW],
    Status.OPINION_READY: [
        Status.AWAITING_PAYMENT,
        Status.SUBMITTED,
        Status.IN_REVIEW,
        Status.OPINION_READY,
    ],
    Status.DELIVERED: [
        Status.AWAITING_PAYMENT,
        Status.SUBMITTED,
        Status.IN_REVIEW,
        Status.OPINION_READY,
        Status.DELIVERED,
    ],
    Status.CANCELLED: [Status.CANCELLED],
    Status.REFUNDED: [Status.AWAITING_PAYMENT, Status.SUBMITTED, Status.REFUNDED],
}


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Faker("name")
    email_verified_at = factory.LazyFunction(timezone.now)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def role(user, create, extracted, **kwargs):
        user.save()
        user_set_role(user=user, role=extracted or Role.FAMILY)


def staff_user(role: str, **kwargs) -> User:
    """A member of staff with a confirmed authenticator, as after enrolment."""
    user = UserFactory(role=role, **kwargs)
    TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)
    return user


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    name = factory.Sequence(lambda n: f"Department {n}")
    slug = factory.Sequence(lambda n: f"department-{n}")
    phone = "404-555-0199"
    time_zone = "America/New_York"
    call_length_minutes = 30


class ReviewServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReviewService

    department = factory.SubFactory(DepartmentFactory)
    name = factory.Sequence(lambda n: f"Review {n}")
    slug = factory.Sequence(lambda n: f"review-{n}")
    summary = "A written opinion on your child's records."
    readers = "three program leaders"
    fee_cents = 50000
    reviewers_required = 3
    allowed_states = ["GA"]
    excluded_zip_prefixes = ["300", "301", "302", "303"]
    max_patient_age = 20
    required_documents = ["referral", "record", "imaging"]


def review_request(*, family: User, status: Status = Status.DRAFT, service=None, actor=None):
    """A request brought to ``status`` through the lifecycle service, as in real life."""
    request = intake_services.review_request_create(
        service=service or ReviewServiceFactory(), family=family
    )
    for step in PATH_TO[Status(status)]:
        request = intake_services.review_request_transition(
            review_request=request, to_status=step, actor=actor, note="Test note."
        )
    return request
