"""The one door to a document's bytes: who may pass, what is logged, what is served."""

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from records.models import AccessLog
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def open_file(client, document, download=False):
    url = reverse("records:document_file", args=[document.pk])
    return client.get(f"{url}?download" if download else url)


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_the_family_sees_its_pdf_in_the_browser(client, family, family_document):
    sign_in(client, family)
    AccessLog.objects.all().delete()

    response = open_file(client, family_document)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="school-report.pdf"'
    assert body(response).startswith(b"%PDF-")
    log = AccessLog.objects.get()
    assert (log.user, log.role, log.action, log.outcome, log.request_id, log.document_id) == (
        family,
        "family",
        "view",
        "allowed",
        family_document.request_id,
        family_document.pk,
    )


def test_download_asks_the_browser_to_save(client, coordinator, family_document):
    sign_in(client, coordinator)

    response = open_file(client, family_document, download=True)

    assert response["Content-Disposition"] == 'attachment; filename="school-report.pdf"'
    assert AccessLog.objects.filter(action="download", role="coordinator").count() == 1
    response.close()


def test_a_dicom_file_is_always_a_download_and_an_odd_name_is_encoded_safely(
    client, family, family_draft
):
    from records.services import document_upload
    from tests import samples

    document = document_upload(
        review_request=family_draft,
        kind="imaging",
        upload=samples.upload(samples.dicom(), 'CT "spine" é.dcm'),
        actor=family,
        ip_address="",
    ).document
    sign_in(client, family)

    response = open_file(client, document)

    assert response["Content-Type"] == "application/dicom"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''CT%20%22spine%22%20%C3%A9.dcm" in response["Content-Disposition"]
    response.close()


@pytest.mark.parametrize("persona", ["other_family", "unassigned_reviewer"])
def test_someone_elses_document_is_a_404_and_the_attempt_is_logged(
    request, client, family_document, persona
):
    intruder = request.getfixturevalue(persona)
    sign_in(client, intruder)
    AccessLog.objects.all().delete()

    response = open_file(client, family_document)

    assert response.status_code == 404
    log = AccessLog.objects.get()
    assert (log.user, log.outcome, log.document_id, log.request_id) == (
        intruder,
        "denied",
        family_document.pk,
        family_document.request_id,
    )


def test_a_document_that_does_not_exist_looks_the_same_and_is_logged(
    client, other_family, family_document
):
    import uuid

    sign_in(client, other_family)
    AccessLog.objects.all().delete()
    missing = uuid.uuid4()

    response = client.get(reverse("records:document_file", args=[missing]))

    assert response.status_code == 404
    assert AccessLog.objects.get().document_id == missing


def test_bytes_that_no_longer_match_their_checksum_are_never_served(
    client, family, family_document
):
    default_storage.delete(family_document.storage_key)
    default_storage.save(
        family_document.storage_key, __import__("io").BytesIO(b"%PDF-1.4 tampered %%EOF")
    )
    sign_in(client, family)
    AccessLog.objects.all().delete()

    response = client.get(reverse("records:document_file", args=[family_document.pk]))

    assert response.status_code == 500
    assert b"tampered" not in response.content
    assert (
        "could not" in response.content.decode() or "cannot be shown" in response.content.decode()
    )
    assert AccessLog.objects.get().outcome == "corrupt"


def test_the_family_status_page_lists_the_files_sent(
    client, family, family_document, django_assert_max_num_queries
):
    sign_in(client, family)

    with django_assert_max_num_queries(20):
        page = client.get(
            reverse("intake:request_detail", args=[family_document.request.reference])
        )

    assert "school-report.pdf" in page.content.decode()
    assert reverse("records:document_file", args=[family_document.pk]) in page.content.decode()


def test_the_status_page_costs_the_same_queries_for_1_or_12_files(
    client, family, coordinator, django_assert_max_num_queries
):
    from intake.lifecycle import Status
    from records.services import document_process, document_upload
    from tests import samples
    from tests.factories import review_request

    request = review_request(family=family, status=Status.SUBMITTED)

    def add_file(n):
        document = document_upload(
            review_request=request,
            kind="record",
            actor=family,
            ip_address="",
            upload=samples.upload(samples.image("PNG"), f"scan{n}.png"),
        ).document
        document_process(document_id=document.pk)

    add_file(0)
    sign_in(client, family)
    url = reverse("intake:request_detail", args=[request.reference])
    with django_assert_max_num_queries(40) as one:
        client.get(url)
    baseline = len(one.captured_queries)  # read now: each request resets Django's query log
    for n in range(1, 12):
        add_file(n)

    with django_assert_max_num_queries(baseline):
        page = client.get(url)

    assert page.content.decode().count("/files/previews/") == 12


@pytest.mark.parametrize("kind", ["document", "preview"])
def test_an_anonymous_attempt_is_logged_before_being_sent_to_sign_in(client, family_document, kind):
    AccessLog.objects.all().delete()
    if kind == "document":
        url = reverse("records:document_file", args=[family_document.pk])
    else:
        url = reverse("records:preview", args=[family_document.previews.get().pk])

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    log = AccessLog.objects.get()
    assert (log.user, log.role, log.outcome, log.document_id, log.request_id) == (
        None,
        "anonymous",
        "denied",
        family_document.pk,
        family_document.request_id,
    )


def test_an_unknown_preview_is_a_logged_404(client, family):
    import uuid

    sign_in(client, family)
    AccessLog.objects.all().delete()

    response = client.get(reverse("records:preview", args=[uuid.uuid4()]))

    assert response.status_code == 404
    log = AccessLog.objects.get()
    assert (log.user, log.action, log.outcome, log.document_id) == (
        family,
        "preview",
        "denied",
        None,
    )
