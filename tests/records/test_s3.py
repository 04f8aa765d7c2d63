"""The same upload and download path on S3, against moto's server over real HTTP."""

import boto3
import pytest
from django.urls import reverse

from records.models import Document
from tests import samples
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def bucket(s3_storage, s3_server):
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )

    def objects():
        listing = client.list_objects_v2(Bucket=s3_storage["bucket_name"])
        return [item["Key"] for item in listing.get("Contents", [])]

    return client, s3_storage["bucket_name"], objects


def test_an_upload_lands_encrypted_under_a_random_key_and_comes_back_intact(
    client, family, family_draft, bucket
):
    s3, name, objects = bucket
    content = samples.dicom()
    sign_in(client, family)

    client.post(
        reverse("records:upload", args=[family_draft.reference]),
        {"kind": "imaging", "file": samples.upload(content, "IM0001.dcm")},
        HTTP_ACCEPT="application/json",
    )
    document = Document.objects.get()
    served = client.get(reverse("records:document_file", args=[document.pk]))

    assert objects() == [document.storage_key]
    head = s3.head_object(Bucket=name, Key=document.storage_key)
    assert head["ServerSideEncryption"] == "AES256"
    # The stored copy is the image with its 128-byte preamble written as zeros, ending with
    # the pixel data (the scanner's trailing padding is left out).
    padding = content.rfind(b"\xfc\xff\xfc\xff")
    assert b"".join(served.streaming_content) == bytes(128) + content[128:padding]


def test_a_refused_file_leaves_no_object_in_the_bucket(client, family, family_draft, bucket):
    _, _, objects = bucket
    sign_in(client, family)

    client.post(
        reverse("records:upload", args=[family_draft.reference]),
        {"kind": "record", "file": samples.upload(b"<html></html>", "x.pdf")},
        HTTP_ACCEPT="application/json",
    )

    assert objects() == []


def test_an_upload_the_request_no_longer_accepts_removes_the_stored_object(
    family, family_draft, bucket
):
    from intake.lifecycle import Status
    from intake.services import review_request_transition
    from records.filetypes import Rejected
    from records.services import document_upload
    from tests.factories import PATH_TO

    _, _, objects = bucket
    stale = type(family_draft).objects.get(pk=family_draft.pk)
    for step in PATH_TO[Status.IN_REVIEW]:
        family_draft = review_request_transition(
            review_request=family_draft, to_status=step, actor=None, note="x"
        )

    with pytest.raises(Rejected):
        document_upload(
            review_request=stale,
            kind="record",
            upload=samples.upload(samples.pdf()),
            actor=family,
            ip_address="",
        )

    assert objects() == []
    assert not Document.objects.exists()
