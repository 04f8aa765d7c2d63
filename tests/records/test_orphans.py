"""Stored objects no row points to: removed after the grace period, never one with a row."""

from datetime import timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from records.services import orphaned_objects_remove
from tests import samples
from tests.records.imaging import stored_imaging


def test_an_old_object_without_a_row_is_removed_and_one_with_a_row_is_kept(family_draft):
    document = stored_imaging(family_draft, samples.dicom())
    orphan = default_storage.save("documents/left-behind", ContentFile(b"bytes"))

    removed_now = orphaned_objects_remove()
    removed_later = orphaned_objects_remove(now=timezone.now() + timedelta(hours=25))

    assert removed_now == 0
    assert removed_later == 1
    assert not default_storage.exists(orphan)
    assert default_storage.exists(document.storage_key)
