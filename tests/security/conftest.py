"""The world the probes of the web surface attack: one family's objects of every kind, and
the people who must not reach them.

Besides the personas of ``tests/conftest.py``: a second guardian who was removed from the
family's request, a reviewer who was taken off its panel, and a member of staff whose
role grants nothing in the admin.
"""

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group

from accounts.models import Role
from tests.conftest import sign_in
from tests.factories import UserFactory, staff_user
from tests.test_permissions import family_call, people_on  # noqa: F401 (a fixture)

REMOVED_GUARDIAN = "removed.guardian@example.org"


@dataclass
class World:
    """Everything a URL of the portal can point at, all of it the family's."""

    request: object  # in review, ``assigned_reviewer`` leads its panel
    draft: object  # the family's draft (wizard pages)
    document: object
    preview: object
    booking: object  # the family's call
    appointment: object
    guardian_link: object  # an open invitation of a second guardian to ``request``
    pediatrician_link: object  # the pediatrician's open upload link to ``draft``
    access: object  # the second guardian who joined ``request``
    removed_access: object  # the second guardian removed from ``request``
    imaging: object  # a DICOM image on ``request``, for the viewer
    measurement: object  # the lead's length on ``imaging``
    held: object  # a report held back from a CD sent on ``draft``


@pytest.fixture
def removed_guardian(db):
    return UserFactory(email=REMOVED_GUARDIAN, full_name="Morgan Rivera")


@pytest.fixture
def removed_reviewer(db):
    return staff_user(
        Role.REVIEWER, email="reviewer.removed@example.org", full_name="Dr. Avery Stone"
    )


@pytest.fixture
def bare_staff(db):
    """A coordinator whose group was emptied: signed in with a second factor, allowed
    nothing in the admin."""
    user = staff_user(Role.COORDINATOR, email="bare.staff@example.org", full_name="Kim Bare")
    user.groups.set([Group.objects.create(name="Nothing")])
    return user


@pytest.fixture
def world(family_request, family_draft, family_call, removed_guardian, removed_reviewer):  # noqa: F811
    from intake import services
    from reviews.services import review_assignment_add, review_assignment_remove

    access, guardian_link = people_on(family_request)
    invited = services.invitation_send(
        review_request=family_request,
        kind="guardian",
        email=REMOVED_GUARDIAN,
        actor=family_request.family,
    )
    removed = services.invitation_accept(
        invitation=invited,
        user=removed_guardian,
        details={"legal_name": "Morgan Rivera", "relationship": "father"},
    )
    removed_access = family_request.shared_accesses.get(user=removed_guardian)
    services.shared_access_remove(access=removed_access, actor=family_request.family)
    assert removed.pk == family_request.pk
    assignment = review_assignment_add(review_request=family_request, reviewer=removed_reviewer)
    review_assignment_remove(assignment=assignment, reason="Conflict of interest")
    pediatrician_link = services.invitation_send(
        review_request=family_draft,
        kind="pediatrician",
        email="dr.ortiz@pediatrics.example.org",
        actor=family_draft.family,
    )
    document = family_request.documents.get()
    booking, appointment = family_call
    imaging, measurement = _measured_imaging(family_request)
    return World(
        request=family_request,
        draft=family_draft,
        document=document,
        preview=document.previews.get(),
        booking=booking,
        appointment=appointment,
        guardian_link=guardian_link,
        pediatrician_link=pediatrician_link,
        access=access,
        removed_access=removed_access,
        imaging=imaging,
        measurement=measurement,
        held=_held_report(family_draft, document),
    )


def _measured_imaging(review_request):
    """A DICOM image on the request and a length its panel's lead measured on it."""
    import uuid

    from records.frames import study_index
    from reviews import measurements
    from tests.records.imaging import stored_imaging, with_patient

    imaging = stored_imaging(review_request, with_patient())
    lead = review_request.assignments.filter(removed_at__isnull=True).get().reviewer
    measurement = measurements.measurement_save(
        document=imaging,
        study=study_index(document=imaging),
        series=1,
        tool="length",
        points=[[10, 10], [40, 50]],
        actor=lead,
        measurement_id=uuid.uuid4(),
        image=1,
        frame=1,
        label="",
    )
    return imaging, measurement


def _held_report(draft, source):
    """A PDF report the checks held back from a CD, waiting for the family to add it."""
    from records.models import HeldFile

    return HeldFile.objects.create(
        request=draft,
        source=source,
        original_name="report.pdf",
        storage_key=f"held/{draft.reference}/report.pdf",
        size=1024,
        sha256="0" * 64,
    )


@pytest.fixture
def new_staff(db):
    """A coordinator signed in for the first time: no authenticator yet."""
    return UserFactory(role=Role.COORDINATOR, email="new.staff@example.org", full_name="Lee New")


@pytest.fixture
def unverified_staff(db):
    """A coordinator with an authenticator who has not entered a code in this session."""
    return staff_user(Role.COORDINATOR, email="code.pending@example.org", full_name="Pat Code")


def enter(client, persona: str, user):
    """``client`` signed in as ``user`` the way ``persona`` is: staff who have not passed
    their code (or have no authenticator yet) by password only."""
    if persona in ("new_staff", "unverified_staff"):
        client.force_login(user)
        return client
    return sign_in(client, user)


def finished(response):
    """``response`` read to its end, so a file it streams is closed. (Not ``close()``: that
    signals the end of a request again, and Django then closes the test's database
    connection on PostgreSQL.)"""
    if response.streaming:
        b"".join(response.streaming_content)
    return response


@pytest.fixture(scope="session", autouse=True)
def requests_counted():
    """With PROBE_REPORT set, the number of requests the probes sent is added to the report
    (the figures of docs/security.md)."""
    import json
    import os

    from django.core.signals import request_started

    sent = []

    def count(**kwargs):
        sent.append(1)

    request_started.connect(count, weak=False)
    yield
    request_started.disconnect(count)
    if path := os.environ.get("PROBE_REPORT"):
        with open(path, "a") as report:
            report.write(json.dumps({"requests": len(sent)}) + "\n")
