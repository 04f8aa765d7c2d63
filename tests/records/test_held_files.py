"""A PDF report found on the family's imaging CD: left out of the study, and offered to the
family to add as a medical record."""

import json

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from intake.lifecycle import Status
from records.models import AccessLog, Document, HeldFile
from records.services import held_files_discard_stale
from tests import samples
from tests.conftest import PERSONAS, sign_in
from tests.records import corpus

pytestmark = pytest.mark.django_db


def send_cd(client, review_request, *, as_json=True):
    headers = {"HTTP_ACCEPT": "application/json"} if as_json else {}
    return client.post(
        reverse("records:upload", args=[review_request.reference]),
        {"kind": "imaging", "file": samples.upload(corpus.imaging_cd(), "CD.zip"), "next": "/x/"},
        **headers,
    )


@pytest.fixture
def held(client, family, family_draft):
    sign_in(client, family)
    send_cd(client, family_draft)
    client.logout()
    return HeldFile.objects.get()


def test_the_report_is_offered_with_the_upload_and_on_the_page(client, family, family_draft):
    sign_in(client, family)

    answer = json.loads(send_cd(client, family_draft).content)
    page = client.get(reverse("records:wizard_documents", args=[family_draft.reference]))

    held = HeldFile.objects.get()
    assert answer["held"] == [
        {
            "id": str(held.pk),
            "name": "REPORT.PDF",
            "add_url": reverse("records:held_add", args=[family_draft.reference, held.pk]),
            "discard_url": reverse("records:held_discard", args=[family_draft.reference, held.pk]),
        }
    ]
    assert Document.objects.get().kind == "imaging"  # the report is not sent until asked
    assert "Reports found with your imaging" in page.content.decode()
    assert "Add as a medical record" in page.content.decode()


def test_without_script_the_notes_and_the_offer_reach_the_page(client, family, family_draft):
    sign_in(client, family)

    response = send_cd(client, family_draft, as_json=False)
    page = client.get(reverse("records:wizard_documents", args=[family_draft.reference]))

    assert response.status_code == 302
    text = page.content.decode()
    assert "CD.zip was added." in text
    assert "left out 6 other files" in text
    assert "REPORT.PDF is a PDF report" in text


def test_adding_the_report_makes_it_a_record_from_the_same_bytes(client, family, held):
    sign_in(client, family)
    key, sha256 = held.storage_key, held.sha256

    response = client.post(
        reverse("records:held_add", args=[held.request.reference, held.pk]), {"next": "/back/"}
    )

    assert response.status_code == 302
    record = Document.objects.get(kind="record")
    assert (record.storage_key, record.sha256, record.original_name) == (key, sha256, "REPORT.PDF")
    assert not HeldFile.objects.exists()
    assert default_storage.exists(key)
    assert AccessLog.objects.filter(document_id=record.pk, action="upload").count() == 1


def test_letting_the_report_go_removes_it_and_its_bytes(
    client, family, held, django_capture_on_commit_callbacks
):
    sign_in(client, family)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("records:held_discard", args=[held.request.reference, held.pk]))

    assert not HeldFile.objects.exists()
    assert not default_storage.exists(held.storage_key)
    assert Document.objects.filter(kind="record").count() == 0


def test_a_report_added_twice_is_added_once(client, family, held):
    sign_in(client, family)
    url = reverse("records:held_add", args=[held.request.reference, held.pk])

    client.post(url)
    second = client.post(url)

    assert second.status_code == 404
    assert Document.objects.filter(kind="record").count() == 1


def test_once_the_request_takes_no_files_the_report_cannot_be_added(client, family, held):
    type(held.request).objects.filter(pk=held.request_id).update(status=Status.IN_REVIEW)
    sign_in(client, family)

    client.post(reverse("records:held_add", args=[held.request.reference, held.pk]))
    page = client.get(reverse("intake:request_detail", args=[held.request.reference]))

    assert "This request no longer accepts files." in page.content.decode()
    assert HeldFile.objects.count() == 1
    assert not Document.objects.filter(kind="record").exists()


def test_removing_the_study_removes_its_held_report(
    client, family, held, django_capture_on_commit_callbacks
):
    sign_in(client, family)
    study = Document.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("records:remove", args=[held.request.reference, study.pk]))

    assert not HeldFile.objects.exists()
    assert not default_storage.exists(held.storage_key)


def test_reports_nobody_answered_are_let_go(held, django_capture_on_commit_callbacks, time_machine):
    time_machine.move_to(held.held_at, tick=False)
    time_machine.shift(13 * 86400)
    with django_capture_on_commit_callbacks(execute=True):
        kept = held_files_discard_stale()
    time_machine.shift(2 * 86400)
    with django_capture_on_commit_callbacks(execute=True):
        discarded = held_files_discard_stale()

    assert (kept, discarded) == (0, 1)
    assert not default_storage.exists(held.storage_key)


def test_the_pediatricians_cd_holds_nothing_back(client, family_draft):
    from intake import services
    from intake.links import invitation_url

    link = services.invitation_send(
        review_request=family_draft,
        kind="pediatrician",
        email="dr.ortiz@pediatrics.example.org",
        actor=family_draft.family,
    )
    url = invitation_url(link).removeprefix("http://testserver")

    client.post(url, {"kind": "imaging", "file": samples.upload(corpus.imaging_cd(), "CD.zip")})
    page = client.get(url)

    assert not HeldFile.objects.exists()
    assert "left out 7 other files" in page.content.decode()


# Who may answer for a held report: the family only; for everyone else it does not exist.
OUTCOMES = dict(zip(PERSONAS, ("login", 302, 404, 404, 404, 404, 404), strict=True))


@pytest.mark.parametrize("view", ["records:held_add", "records:held_discard"])
@pytest.mark.parametrize("persona", PERSONAS)
def test_only_the_family_answers_for_its_held_report(request, client, held, view, persona):
    sign_in(client, request.getfixturevalue(persona))

    response = client.post(reverse(view, args=[held.request.reference, held.pk]))

    expected = OUTCOMES[persona]
    if expected == "login":
        assert response["Location"].startswith(reverse("accounts:login"))
    else:
        assert response.status_code == expected
    assert HeldFile.objects.exists() == (persona != "family")
