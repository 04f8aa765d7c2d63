"""Loading the demo: idempotent, so ``make run`` can call it every time."""

from base64 import b32encode
from datetime import date, time, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.services import user_set_role
from billing.services import payment_record_phone
from demo import data, files
from demo.spine_study import spine_study_zip
from intake import services as intake
from intake.lifecycle import Status
from intake.models import ConsentText, Department, Question, ReviewService
from intake.selectors import questionnaire_current
from records.models import Document
from records.services import document_upload
from reviews.models import ReviewerProfile
from reviews.services import panel_set
from scheduling.models import AppointmentLocation, AvailabilityException, Coordinator, WeeklyHours


def demo_load() -> list[User]:
    """Create what is missing of the demo catalogue, accounts and requests; returns the
    demo accounts. Refused unless ``DEMO_DATA_ALLOWED`` (never in production)."""
    if not settings.DEMO_DATA_ALLOWED:
        raise ImproperlyConfigured("Demo data is not allowed here (DEMO_DATA_ALLOWED is off).")
    with transaction.atomic():
        _catalogue()
        users = [_account(role, email, name) for role, email, name in data.ACCOUNTS]
        by_email = {user.email: user for user in users}
        _reviewers(by_email)
        _requests(by_email)
        _imaging_case(by_email)
        _calls(by_email)
    return users


def _catalogue() -> None:
    # get_or_create, never update: what an admin changed in the demo stays changed.
    for fields in data.DEPARTMENTS:
        Department.objects.get_or_create(slug=fields["slug"], defaults=fields)
    for fields in data.SERVICES:
        fields = dict(fields, department=Department.objects.get(slug=fields["department"]))
        service, _ = ReviewService.objects.get_or_create(slug=fields["slug"], defaults=fields)
        if not service.questionnaires.exists():
            draft = intake.questionnaire_new_version(service=service)
            Question.objects.bulk_create(
                Question(
                    questionnaire=draft,
                    position=position,
                    key=key,
                    text=text,
                    kind=kind,
                    required=required,
                    choices=choices,
                    **_spanish_question(service.slug, key),
                )
                for position, (key, text, kind, required, choices) in enumerate(
                    data.QUESTIONS[service.slug], start=1
                )
            )
            intake.questionnaire_publish(questionnaire=draft)
    if not ConsentText.objects.exists():
        consent = intake.consent_text_new_version(
            title=data.CONSENT_TITLE,
            body=data.CONSENT_BODY,
            title_es=data.CONSENT_TITLE_ES,
            body_es=data.CONSENT_BODY_ES,
        )
        intake.consent_text_publish(consent_text=consent)


def _spanish_question(slug: str, key: str) -> dict:
    text, choices = data.QUESTIONS_ES[key]
    return {
        "text_es": text[slug] if isinstance(text, dict) else text,
        "choices_es": (choices or {}).get(slug, []) if isinstance(choices, dict) else [],
    }


def _account(role: str, email: str, full_name: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(
            email=email,
            password=data.PASSWORD,
            full_name=full_name,
            email_verified_at=timezone.now(),
        )
        user_set_role(user=user, role=role)
    if user.is_staff_member and not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        TOTPDevice.objects.create(user=user, name="Demo authenticator", confirmed=True)
    return user


def _requests(users: dict[str, User]) -> None:
    """Requests of the demo family, built as a parent would through the wizard: a spine
    review sent and paid, a hip review in review with reviewer 1 as lead, and a spine review
    still being filled in."""
    family = users["family@example.org"]
    if family.review_requests.exists():
        return
    coordinator = users["coordinator@example.org"]
    spine = ReviewService.objects.get(slug="spine-document-review")
    hip = ReviewService.objects.get(slug="hip-document-review")

    _sent_and_paid(spine, family, coordinator, child=data.CHILDREN[0])
    in_review = _sent_and_paid(hip, family, coordinator, child=data.CHILDREN[1])
    intake.review_request_transition(
        review_request=in_review, to_status=Status.IN_REVIEW, actor=coordinator
    )
    lead = users["reviewer1@example.org"]
    panel_set(review_request=in_review, reviewers=[lead], lead=lead, actor=coordinator)

    draft = intake.review_request_start(service=spine, family=family, eligibility=data.ELIGIBILITY)
    intake.guardian_save(review_request=draft, fields=data.GUARDIAN)


SPINE_STUDY = "Spine CT and standing X-ray.zip"


def _imaging_case(users: dict[str, User]) -> None:
    """A spine review in review with a CD's study (a coronal CT series and a standing film,
    with real pixel spacing), read by the three spine reviewers, reviewer 1 leading: the
    imaging viewer has something to show at once. Added once, also to an earlier demo."""
    family = users["family@example.org"]
    if Document.objects.filter(request__family=family, original_name=SPINE_STUDY).exists():
        return
    coordinator = users["coordinator@example.org"]
    spine = ReviewService.objects.get(slug="spine-document-review")
    request = _sent_and_paid(spine, family, coordinator, child=data.CHILDREN[0])
    document_upload(
        review_request=request,
        kind="imaging",
        actor=family,
        ip_address="127.0.0.1",
        upload=SimpleUploadedFile(SPINE_STUDY, spine_study_zip()),
    )
    request = intake.review_request_transition(
        review_request=request, to_status=Status.IN_REVIEW, actor=coordinator
    )
    readers = [users[f"reviewer{number}@example.org"] for number in (1, 2, 3)]
    panel_set(review_request=request, reviewers=readers, lead=readers[0], actor=coordinator)


def _reviewers(users: dict[str, User]) -> None:
    """Each demo reviewer in the pools of the reviews they read; Orthopedics' program lead."""
    for email, (credentials, slugs) in data.REVIEWERS.items():
        profile, created = ReviewerProfile.objects.get_or_create(
            user=users[email], defaults={"credentials": credentials}
        )
        if created:
            profile.services.set(ReviewService.objects.filter(slug__in=slugs))
    for slug, email in data.PROGRAM_LEADS.items():
        Department.objects.filter(slug=slug, program_lead=None).update(program_lead=users[email])


def _calls(users: dict[str, User]) -> None:
    """Coordinators with weekday hours, the coming public holidays closed, and a location
    for in-person visits."""
    for slug, emails in data.COORDINATORS.items():
        department = Department.objects.get(slug=slug)
        for email in emails:
            coordinator, created = Coordinator.objects.get_or_create(
                department=department, user=users[email]
            )
            if created:
                WeeklyHours.objects.bulk_create(
                    WeeklyHours(
                        coordinator=coordinator,
                        weekday=weekday,
                        start_time=time.fromisoformat(start),
                        end_time=time.fromisoformat(end),
                    )
                    for weekday in range(5)
                    for start, end in data.WEEKLY_HOURS
                )
        for day, note in _holidays(timezone.localdate()):
            AvailabilityException.objects.get_or_create(department=department, date=day, note=note)
    AppointmentLocation.objects.get_or_create(name=data.LOCATION["name"], defaults=data.LOCATION)


def _holidays(today: date) -> list[tuple[date, str]]:
    """Thanksgiving (the fourth Thursday of November) and the day after, Christmas and New
    Year's Day, this year's or next year's, whichever come next."""
    days = []
    for year in (today.year, today.year + 1):
        first = date(year, 11, 1)
        thanksgiving = first + timedelta(days=(3 - first.weekday()) % 7 + 21)
        days += [
            (thanksgiving, "Thanksgiving"),
            (thanksgiving + timedelta(days=1), "Day after Thanksgiving"),
            (date(year, 12, 25), "Christmas Day"),
            (date(year + 1, 1, 1), "New Year's Day"),
        ]
    return [(day, note) for day, note in days if today <= day <= today + timedelta(days=90)]


def _sent_and_paid(service: ReviewService, family: User, coordinator: User, *, child: dict):
    request = intake.review_request_start(
        service=service, family=family, eligibility=data.ELIGIBILITY
    )
    intake.guardian_save(review_request=request, fields=data.GUARDIAN)
    intake.child_save(review_request=request, fields=child)
    questions = questionnaire_current(service=service).questions.all()
    intake.questionnaire_answers_save(
        review_request=request, answers={q.key: data.ANSWERS[q.kind](q) for q in questions}
    )
    intake.consent_sign(
        review_request=request,
        typed_name=data.GUARDIAN["legal_name"],
        actor=family,
        ip_address="127.0.0.1",
        user_agent="Demo data",
    )
    intake.referring_pediatrician_save(review_request=request, fields=data.PEDIATRICIAN)
    for kind, name, content in (
        ("referral", "Referral from Dr. Lee.pdf", files.pdf()),
        ("record", "Clinic notes.jpg", files.photo(text="Clinic notes (demo)")),
        ("imaging", "CT scan.dcm", files.dicom("CT_small.dcm")),
    ):
        document_upload(
            review_request=request,
            kind=kind,
            actor=family,
            ip_address="127.0.0.1",
            upload=SimpleUploadedFile(name, content),
        )
    request = intake.review_request_submit(review_request=request, actor=family)
    payment_record_phone(
        review_request=request,
        amount_cents=request.fee_cents,
        reference="4242",
        note="Demo data.",
        actor=coordinator,
    )
    request.refresh_from_db()
    return request


def totp_secret(user: User) -> str:
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    return b32encode(device.bin_key).decode().rstrip("=")


def totp_code(user: User) -> str:
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"
