"""Files sent with a request: validation by content, storage, checksums, DICOM previews, the
authorised download path and the access log."""
