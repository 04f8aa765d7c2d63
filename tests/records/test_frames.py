"""The imaging viewer's door to the pixels: who may open a series, what is logged, and what
the browser receives (the image, without the child's details)."""

import io

import numpy as np
import pydicom
import pytest
from django.core import signing
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from records.models import AccessLog
from reviews.models import ReviewAssignment
from tests.conftest import sign_in
from tests.records.imaging import SECRETS, pixels, stored_imaging, study_zip, with_patient

pytestmark = pytest.mark.django_db

CT = with_patient("CT_small.dcm")
MR = with_patient("MR_small.dcm", SeriesNumber=2)
RLE = with_patient("MR_small_RLE.dcm", SeriesNumber=2, InstanceNumber=2)
J2K = with_patient("JPEG2000.dcm")


def open_series(client, document, series=1):
    return client.get(reverse("records:series_open", args=[document.pk, series]))


def fetch(client, url) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    assert response.streaming  # streamed from storage, never built whole
    return b"".join(response.streaming_content)


@pytest.fixture
def study(family_request):
    """A CD's study on the family's request: a CT image, then an MR series of two."""
    return stored_imaging(family_request, study_zip(RLE, CT, MR))


@pytest.mark.parametrize("original", [CT, J2K, RLE], ids=["native", "jpeg2000", "rle"])
def test_an_image_reaches_the_browser_without_the_childs_details(
    client, family_request, assigned_reviewer, original
):
    document = stored_imaging(family_request, original, name="IM0001.dcm")
    sign_in(client, assigned_reviewer)

    opened = open_series(client, document).json()
    response = client.get(opened["images"][0]["url"])
    sent = b"".join(response.streaming_content)

    assert response["Content-Type"] == "application/dicom"
    assert response["Content-Length"] == str(len(sent))
    assert {"private", "no-store"} <= set(response["Cache-Control"].split(", "))
    assert [secret for secret in SECRETS if secret in original] == SECRETS
    assert [secret for secret in SECRETS if secret in sent] == []
    dataset = pydicom.dcmread(io.BytesIO(sent))
    source = pydicom.dcmread(io.BytesIO(original))
    kept = {element.keyword for element in dataset}
    assert not kept & {"PatientName", "PatientID", "PatientBirthDate", "InstitutionName"}
    assert not [element for element in dataset if element.tag.is_private]
    # The image itself is untouched; UIDs are replaced by ones that tell nothing.
    assert np.array_equal(dataset.pixel_array, source.pixel_array)
    assert dataset.file_meta.TransferSyntaxUID == source.file_meta.TransferSyntaxUID
    assert dataset.SOPInstanceUID != source.SOPInstanceUID
    assert dataset.SOPInstanceUID.startswith("2.25.")
    assert dataset.PixelSpacing == source.PixelSpacing


def test_a_study_opens_series_by_series_with_its_images_in_order(client, study, assigned_reviewer):
    sign_in(client, assigned_reviewer)

    ct = open_series(client, study, 1).json()
    mr = open_series(client, study, 2).json()

    assert (ct["label"], len(ct["images"])) == ("CT", 1)
    assert (mr["label"], len(mr["images"])) == ("MR", 2)
    sent = [fetch(client, image["url"]) for image in mr["images"]]
    assert np.array_equal(pixels(sent[0]), pixels(MR))  # instance 1, then 2
    assert np.array_equal(pixels(sent[1]), pixels(RLE))
    assert mr["images"][0]["spacing"] == [0.3125, 0.3125]
    assert mr["images"][0]["spacing_source"] == "pixel"
    assert (mr["images"][0]["rows"], mr["images"][0]["columns"]) == (64, 64)
    assert open_series(client, study, 3).status_code == 404


def test_opening_a_series_is_logged_once_however_many_images_are_fetched(
    client, study, assigned_reviewer
):
    sign_in(client, assigned_reviewer)
    AccessLog.objects.all().delete()

    opened = open_series(client, study, 2).json()
    for _ in range(3):
        for image in opened["images"]:
            fetch(client, image["url"])

    log = AccessLog.objects.get()
    assert (log.user, log.action, log.outcome, log.document_id, log.request_id) == (
        assigned_reviewer,
        "view",
        "allowed",
        study.pk,
        study.request_id,
    )


# anonymous, family, other_family, coordinator, admin_user, assigned_reviewer, unassigned_reviewer
WHO_OPENS = {
    "anonymous": "login",
    "family": 404,
    "other_family": 404,
    "coordinator": 200,
    "admin_user": 200,
    "assigned_reviewer": 200,
    "unassigned_reviewer": 404,
}


@pytest.mark.parametrize(("persona", "expected"), WHO_OPENS.items())
def test_only_the_panel_and_the_coordinators_open_a_series(
    request, client, study, persona, expected
):
    sign_in(client, request.getfixturevalue(persona))
    AccessLog.objects.all().delete()

    response = open_series(client, study, 2)

    if expected == "login":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))
    else:
        assert response.status_code == expected
    outcome = "allowed" if expected == 200 else "denied"
    assert list(AccessLog.objects.values_list("outcome", "document_id", "request_id")) == [
        (outcome, study.pk, study.request_id)
    ]
    if expected == 200:
        image = fetch(client, response.json()["images"][0]["url"])
        assert np.array_equal(pixels(image), pixels(MR))


@pytest.mark.parametrize(
    "persona", ["anonymous", "family", "coordinator", "admin_user", "unassigned_reviewer"]
)
def test_an_image_url_works_only_for_the_person_who_opened_the_series(
    request, client, study, assigned_reviewer, persona
):
    sign_in(client, assigned_reviewer)
    url = open_series(client, study, 2).json()["images"][0]["url"]
    client.logout()
    sign_in(client, request.getfixturevalue(persona))
    AccessLog.objects.all().delete()

    response = client.get(url)

    assert response.status_code == 404
    assert list(AccessLog.objects.values_list("outcome", "document_id")) == [("denied", study.pk)]


def test_a_reviewer_taken_off_the_panel_gets_no_further_image(client, study, assigned_reviewer):
    sign_in(client, assigned_reviewer)
    url = open_series(client, study, 2).json()["images"][0]["url"]
    fetch(client, url)

    ReviewAssignment.objects.filter(reviewer=assigned_reviewer).update(removed_at=timezone.now())

    assert client.get(url).status_code == 404
    assert open_series(client, study, 2).status_code == 404


def test_a_tampered_key_or_image_number_is_a_404(client, study, assigned_reviewer):
    sign_in(client, assigned_reviewer)
    url = open_series(client, study, 2).json()["images"][0]["url"]
    prefix, key, image, _ = url.rsplit("/", 3)

    assert client.get(f"{prefix}/{key[:-2]}xx/{image}/").status_code == 404
    assert client.get(f"{prefix}/{key}/3/").status_code == 404
    assert client.get(f"{prefix}/{key}/0/").status_code == 404


def test_an_image_changed_in_storage_is_refused_and_logged(client, study, assigned_reviewer):
    sign_in(client, assigned_reviewer)
    url = open_series(client, study, 1).json()["images"][0]["url"]  # the study was verified
    tampered = study_zip(RLE, with_patient("CT_small.dcm", PatientName="Other^Child"), MR)
    default_storage.delete(study.storage_key)
    default_storage.save(study.storage_key, io.BytesIO(tampered))

    response = client.get(url)

    assert response.status_code == 500
    assert AccessLog.objects.filter(outcome="corrupt", document_id=study.pk).count() == 1


def test_the_study_is_read_once_and_its_index_kept_signed_in_storage(
    client, study, assigned_reviewer
):
    from django.core.cache import cache

    from records.frames import INDEX_SALT, study_index_name, study_index_prepare

    study_index_prepare(document_id=study.pk)  # as the worker does after processing
    name = study_index_name(study)
    kept = default_storage.open(name).read().decode()
    assert not [secret for secret in SECRETS if secret.decode() in kept]
    # Another process (an empty cache) uses it; changed, it is ignored and read again.
    cache.clear()
    sign_in(client, assigned_reviewer)
    assert open_series(client, study, 2).json()["label"] == "MR"
    series = [[1, 1, "Forged", []], [2, 2, "Forged", []]]
    forged = {"document": str(study.pk), "sha256": study.sha256, "series": series}
    default_storage.delete(name)
    default_storage.save(name, io.BytesIO(signing.dumps(forged, salt="other").encode()))
    cache.clear()

    assert open_series(client, study, 2).json()["label"] == "MR"
    replaced = signing.loads(default_storage.open(name).read().decode(), salt=INDEX_SALT)
    assert [label for _, _, label, _ in replaced["series"]] == ["CT", "MR"]


def test_a_study_changed_in_storage_is_refused_when_it_is_read_again(
    client, study, assigned_reviewer
):
    from django.core.cache import cache

    tampered = study_zip(RLE, with_patient("CT_small.dcm", PatientName="Other^Child"), MR)
    default_storage.delete(study.storage_key)
    default_storage.save(study.storage_key, io.BytesIO(tampered))
    cache.clear()
    sign_in(client, assigned_reviewer)

    assert open_series(client, study, 1).status_code == 500
    assert AccessLog.objects.filter(outcome="corrupt", document_id=study.pk).count() == 1


def test_an_image_with_its_pixel_data_cut_short_says_it_cannot_be_displayed(
    client, family_request, assigned_reviewer
):
    document = stored_imaging(family_request, CT[:-2000], name="IM0001.dcm")
    sign_in(client, assigned_reviewer)

    opened = open_series(client, document).json()
    response = client.get(opened["images"][0]["url"])

    assert response.status_code == 422
    assert response.content.decode() == "This image cannot be displayed; download the original."


def test_the_stored_previews_are_offered_as_placeholders(client, family_request, assigned_reviewer):
    from records.services import document_process

    document = stored_imaging(family_request, study_zip(CT, MR, RLE))
    document.state = "received"
    document.save(update_fields=["state"])
    assert document_process(document_id=document.pk)
    sign_in(client, assigned_reviewer)

    mr = open_series(client, document, 2).json()

    previews = document.previews.filter(series=2).order_by("position")
    assert [image["placeholder"] for image in mr["images"]] == [
        reverse("records:preview", args=[preview.pk]) for preview in previews
    ]


def test_images_of_a_study_on_s3_are_served_the_same_way(
    client, s3_storage, family_request, assigned_reviewer, monkeypatch
):
    from storages.backends.s3 import S3File

    document = stored_imaging(family_request, study_zip(RLE, CT, MR))
    sign_in(client, assigned_reviewer)
    # The study is streamed once and its images read by ranges: never downloaded whole
    # into the web process, as django-storages' file object would.
    monkeypatch.setattr(S3File, "file", property(lambda self: pytest.fail("read whole")))

    mr = open_series(client, document, 2).json()

    sent = [fetch(client, image["url"]) for image in mr["images"]]
    assert [np.array_equal(pixels(a), pixels(b)) for a, b in zip(sent, (MR, RLE), strict=True)] == [
        True,
        True,
    ]
    assert not [secret for content in sent for secret in SECRETS if secret in content]


def test_the_worker_reads_the_study_after_processing_it(family_request):
    from records.frames import study_index_name
    from records.tasks import process_document_task

    document = stored_imaging(family_request, study_zip(CT, MR))
    document.state = "received"
    document.save(update_fields=["state"])

    process_document_task(document_id=str(document.pk))

    assert default_storage.exists(study_index_name(document))


def test_a_study_taken_back_before_sending_leaves_no_index_behind(
    client, family, family_draft, django_capture_on_commit_callbacks
):
    from records.frames import study_index_name
    from records.tasks import process_document_task

    document = stored_imaging(family_draft, study_zip(CT, MR))
    document.state = "received"
    document.save(update_fields=["state"])
    process_document_task(document_id=str(document.pk))
    assert default_storage.exists(study_index_name(document))
    sign_in(client, family)

    with django_capture_on_commit_callbacks(execute=True):
        removed = client.post(
            reverse("records:remove", args=[family_draft.reference, document.pk]),
            {"next": reverse("records:wizard_documents", args=[family_draft.reference])},
        )

    assert removed.status_code == 302
    assert not default_storage.exists(document.storage_key)
    assert not default_storage.exists(study_index_name(document))
