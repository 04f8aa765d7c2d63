"""What the hospital sets up before families come: run inside the stack's Django process
(``Stack.django``). Prints JSON: the service's slug, the department's, and each member of
staff's e-mail and TOTP key (hex), for the tests to sign in with."""

import json
from datetime import time

from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role
from intake.models import Question
from intake.services import (
    consent_text_new_version,
    consent_text_publish,
    questionnaire_new_version,
    questionnaire_publish,
)
from reviews.models import ReviewerProfile
from scheduling.models import Coordinator, WeeklyHours
from tests.factories import DepartmentFactory, ReviewServiceFactory, UserFactory

department = DepartmentFactory(
    name="Orthopedics", slug="orthopedics", alerts_email="spine-team@hospital.example"
)
service = ReviewServiceFactory(
    department=department, name="Spine document review", slug="spine-document-review"
)
questionnaire = questionnaire_new_version(service=service)
Question.objects.create(
    questionnaire=questionnaire, position=1, key="back_pain", text="Back pain?", kind="yes_no"
)
questionnaire_publish(questionnaire=questionnaire)
consent_text_publish(
    consent_text=consent_text_new_version(
        title="Financial consent", body="Self-pay. Not covered by insurance."
    )
)

staff = {}
for key, role, name in (
    ("coordinator", Role.COORDINATOR, "Taylor Brennan"),
    ("lead", Role.REVIEWER, "Dr. Ana Lopez"),
    ("reviewer2", Role.REVIEWER, "Dr. Ben Okafor"),
    ("reviewer3", Role.REVIEWER, "Dr. Chen Wu"),
):
    user = UserFactory(role=role, email=f"{key}@hospital.example", full_name=name)
    device = TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)
    staff[key] = {"email": user.email, "key": device.key, "id": user.pk}
    if role == Role.REVIEWER:
        profile = ReviewerProfile.objects.create(user=user, credentials="MD", available=True)
        profile.services.add(service)
    else:
        coordinator = Coordinator.objects.create(department=department, user=user)
        for weekday in range(7):
            WeeklyHours.objects.create(
                coordinator=coordinator, weekday=weekday, start_time=time(8), end_time=time(18)
            )
department.program_lead_id = staff["lead"]["id"]
department.save()

print(json.dumps({"service": service.slug, "department": department.slug, "staff": staff}))
