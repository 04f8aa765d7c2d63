"""Upload handling that keeps a runaway upload from filling the disk."""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile


class SizeLimitUploadHandler(FileUploadHandler):
    """Skips a file as soon as it passes the largest size accepted for any kind (imaging):
    the view then finds no file and says it was too large. Per-kind limits are checked after."""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.RECORDS_MAX_IMAGING_BYTES:
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None
