import hashlib
import json

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from intake.lifecycle import Status
from records.models import AccessLog, Document
from tests import samples
from tests.conftest import sign_in
from tests.factories import review_request

pytestmark = pytest.mark.django_db


def stored_files() -> list[str]:
    try:
        return default_storage.listdir("documents")[1]
    except FileNotFoundError:
        return []


def post_file(client, review_request, content, name="report.pdf", kind="record", as_json=True):
    headers = {"HTTP_ACCEPT": "application/json"} if as_json else {}
    return client.post(
        reverse("records:upload", args=[review_request.reference]),
        {"kind": kind, "file": samples.upload(content, name), "next": "/somewhere/"},
        **headers,
    )


@pytest.fixture
def family_client(client, family):
    return sign_in(client, family)


def test_a_file_is_stored_under_a_random_key_with_its_checksum_and_logged(
    family_client, family_draft
):
    content = samples.pdf()

    response = post_file(
        family_client, family_draft, content, name="Dr Lee referral.pdf", kind="referral"
    )

    assert response.status_code == 201
    document = Document.objects.get()
    assert json.loads(response.content)["document"]["name"] == "Dr Lee referral.pdf"
    assert document.storage_key.startswith("documents/")
    assert "referral" not in document.storage_key.lower()
    with default_storage.open(document.storage_key) as stored:
        kept = stored.read()
    assert document.sha256 == hashlib.sha256(kept).hexdigest()
    assert (document.file_type, document.size, document.kind) == (
        "application/pdf",
        len(kept),
        "referral",
    )
    assert kept.startswith(b"%PDF-")
    assert kept.rstrip().endswith(b"%%EOF")
    log = AccessLog.objects.get()
    assert (log.action, log.outcome, log.role, log.document_id) == (
        "upload",
        "allowed",
        "family",
        document.pk,
    )


BAD_FILES = {
    "empty": (b"", "x.pdf"),
    "html-as-pdf": (b"<html><script>alert(1)</script></html>", "report.pdf"),
    "svg": (b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', "scan.svg"),
    "program-as-pdf": (b"MZ\x90\x00" + b"\0" * 300, "report.pdf"),
    "truncated-pdf": (samples.pdf()[:-40], "report.pdf"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_file_gets_a_clear_error_and_leaves_nothing_behind(family_client, family_draft, case):
    content, name = BAD_FILES[case]

    response = post_file(family_client, family_draft, content, name=name)

    assert response.status_code == 400
    assert json.loads(response.content)["error"]
    assert not Document.objects.exists()
    assert stored_files() == []
    assert not AccessLog.objects.exists()


@pytest.mark.parametrize(
    ("sent_name", "kept_name"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\Windows\\report.pdf", "report.pdf"),
        ("report\x00.pdf", "report.pdf"),
        ("invoice\u202efdp.pdf", "invoicefdp.pdf"),
    ],
    ids=["traversal", "windows-traversal", "nul", "right-to-left"],
)
def test_a_name_that_climbs_or_hides_characters_is_never_kept_as_sent(
    family_client, family_draft, sent_name, kept_name
):
    # Django's upload parser cuts a name to its last part and drops unprintable characters
    # before any of the portal's code sees it; the portal's own check refuses what is left.
    response = post_file(family_client, family_draft, samples.pdf(), name=sent_name)

    assert response.status_code == 201
    document = Document.objects.get()
    assert document.original_name == kept_name
    assert kept_name not in document.storage_key


def test_a_zip_bomb_leaves_nothing_behind(family_client, family_draft):
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("DICOM/IM0001", samples.dicom())
        archive.writestr("DICOM/IM0002", b"\0" * 50_000_000)

    response = post_file(
        family_client, family_draft, buffer.getvalue(), name="study.zip", kind="imaging"
    )

    assert "packed suspiciously tightly" in json.loads(response.content)["error"]
    assert stored_files() == []


def test_without_script_the_form_posts_and_comes_back_with_a_message(family_client, family_draft):
    response = post_file(family_client, family_draft, b"", name="empty.pdf", as_json=False)

    assert response["Location"] == "/somewhere/"
    page = family_client.get(reverse("records:wizard_documents", args=[family_draft.reference]))
    assert "empty.pdf: This file is empty." in page.content.decode()


def test_imaging_sent_as_a_record_is_pointed_to_the_right_place(family_client, family_draft):
    response = post_file(
        family_client, family_draft, samples.dicom(), name="IM0001.dcm", kind="record"
    )

    assert (
        json.loads(response.content)["error"]
        == "A DICOM image belongs with imaging: choose “Imaging” for it."
    )


def test_dicom_and_zip_studies_are_accepted_as_imaging(family_client, family_draft):
    assert (
        post_file(
            family_client, family_draft, samples.dicom(), "IM0001.dcm", kind="imaging"
        ).status_code
        == 201
    )
    assert (
        post_file(
            family_client, family_draft, samples.dicom_zip(), "study.zip", kind="imaging"
        ).status_code
        == 201
    )

    assert sorted(Document.objects.values_list("file_type", flat=True)) == [
        "application/dicom",
        "application/zip",
    ]


def test_each_kind_has_its_own_size_limit(family_client, family_draft, settings):
    settings.RECORDS_MAX_DOCUMENT_BYTES = 200

    too_big = post_file(family_client, family_draft, samples.pdf(), kind="record")
    imaging = post_file(family_client, family_draft, samples.pdf(), kind="imaging")

    assert "record" in json.loads(too_big.content)["error"].lower()
    assert "can be up to" in json.loads(too_big.content)["error"]
    assert imaging.status_code == 201


def test_a_file_past_the_largest_limit_is_dropped_while_it_arrives(
    family_client, family_draft, settings
):
    settings.RECORDS_MAX_IMAGING_BYTES = 1024

    response = post_file(
        family_client, family_draft, samples.dicom(), name="huge.dcm", kind="imaging"
    )

    assert json.loads(response.content)["error"] == "This file is larger than any file we accept."
    assert stored_files() == []


def test_files_can_be_removed_until_the_request_is_sent(
    family_client, family_draft, django_capture_on_commit_callbacks
):
    post_file(family_client, family_draft, samples.pdf())
    document = Document.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        family_client.post(
            reverse("records:remove", args=[family_draft.reference, document.pk]),
            {"next": "/back/"},
        )

    assert not Document.objects.exists()
    assert stored_files() == []  # the bytes go once the removal is committed
    actions = AccessLog.objects.order_by("at", "pk").values_list("action", flat=True)
    assert list(actions) == ["upload", "remove"]


def test_files_sent_with_a_request_cannot_be_removed(client, family_document, family):
    sign_in(client, family)

    response = client.post(
        reverse("records:remove", args=[family_document.request.reference, family_document.pk]),
        follow=True,
    )

    assert "cannot be removed once the request is sent" in response.content.decode()
    assert Document.objects.filter(pk=family_document.pk).exists()


@pytest.mark.parametrize(
    ("status", "accepted"),
    [
        (Status.SUBMITTED, True),
        (Status.NEEDS_INFO, True),
        (Status.AWAITING_PAYMENT, False),
        (Status.IN_REVIEW, False),
        (Status.DELIVERED, False),
    ],
)
def test_files_are_added_while_drafting_or_while_the_team_waits(client, family, status, accepted):
    target = review_request(family=family, status=status)
    sign_in(client, family)

    response = post_file(client, target, samples.pdf())

    assert (response.status_code == 201) is accepted
    if not accepted:
        assert json.loads(response.content)["error"] == "This request no longer accepts files."


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("anonymous", 302),
        ("family", 201),
        ("other_family", 404),
        ("coordinator", 404),
        ("admin_user", 404),
        ("assigned_reviewer", 404),
        ("unassigned_reviewer", 404),
    ],
)
def test_only_the_family_uploads_to_its_request(request, client, family_draft, persona, expected):
    sign_in(client, request.getfixturevalue(persona))

    response = post_file(client, family_draft, samples.pdf())

    assert response.status_code == expected
    assert Document.objects.count() == (1 if expected == 201 else 0)


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("anonymous", 302), ("other_family", 404), ("coordinator", 404), ("assigned_reviewer", 404)],
)
def test_nobody_else_removes_a_familys_file(
    request, client, family, family_draft, persona, expected
):
    sign_in(client, family)
    post_file(client, family_draft, samples.pdf())
    document = Document.objects.get()
    client.logout()
    sign_in(client, request.getfixturevalue(persona))

    response = client.post(reverse("records:remove", args=[family_draft.reference, document.pk]))

    assert response.status_code == expected
    assert Document.objects.filter(pk=document.pk).exists()


def test_a_request_that_stopped_accepting_files_mid_upload_keeps_nothing(family, family_draft):
    from intake.services import review_request_transition
    from records.filetypes import Rejected
    from records.services import document_upload
    from tests.factories import PATH_TO

    stale = type(family_draft).objects.get(pk=family_draft.pk)  # still a draft in memory
    for step in PATH_TO[Status.IN_REVIEW]:
        family_draft = review_request_transition(
            review_request=family_draft, to_status=step, actor=None, note="x"
        )

    with pytest.raises(Rejected, match="no longer accepts files"):
        document_upload(
            review_request=stale,
            kind="record",
            upload=samples.upload(samples.pdf()),
            actor=family,
            ip_address="203.0.113.7",
        )

    assert not Document.objects.exists()
    assert stored_files() == []


def test_removing_a_file_also_removes_its_previews(
    family_client, family_draft, django_capture_on_commit_callbacks
):
    from records.services import document_process

    post_file(family_client, family_draft, samples.dicom(), "IM0001.dcm", kind="imaging")
    document = Document.objects.get()
    document_process(document_id=document.pk)
    assert default_storage.listdir("previews")[1]

    with django_capture_on_commit_callbacks(execute=True):
        family_client.post(reverse("records:remove", args=[family_draft.reference, document.pk]))

    assert default_storage.listdir("previews")[1] == []
    assert stored_files() == []


def test_nobody_can_upload_a_file_as_the_opinion_letter(family_client, family, family_draft):
    from records.filetypes import Rejected
    from records.services import document_upload

    response = post_file(family_client, family_draft, samples.pdf(), kind="opinion")

    assert response.status_code == 400
    assert "opinion is not one of the available choices" in response.json()["error"]
    with pytest.raises(Rejected, match="Choose what the file is"):
        document_upload(
            review_request=family_draft,
            kind="opinion",
            upload=samples.upload(samples.pdf()),
            actor=family,
            ip_address="",
        )
    assert not Document.objects.exists()
    assert stored_files() == []
