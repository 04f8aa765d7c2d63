from django.apps import AppConfig
from django.http import multipartparser

# Django reads at most 1 KB of headers per part of a multipart body, so a file whose name
# is over about 900 characters (phones and e-mail clients do send them) made the whole
# upload a bare "Bad Request". The name is only the browser's and is shortened for display,
# so a part's headers may take 32 KB; every other limit of the parser stays as it is.
MULTIPART_HEADER_BYTES = 32 * 1024


class RecordsConfig(AppConfig):
    name = "records"

    def ready(self):
        multipartparser.MAX_TOTAL_HEADER_SIZE = MULTIPART_HEADER_BYTES
