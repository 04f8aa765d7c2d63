"""Upload handling: a runaway upload cannot fill the disk, and a file is never dropped for
its name."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import JsonResponse
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.shortcuts import render
from django.utils.datastructures import ImmutableList
from django.utils.translation import gettext_lazy

# The name kept for a file whose own name is nothing but a path or dots; it is shown as
# "Document 3.pdf" (``records.filetypes.display_name``).
NAMELESS = "unnamed"


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


class NamedFileParser(MultiPartParser):
    """Django's parser drops a file whose name cleans to nothing ("..", "folder/") as if no
    file had been sent, and the parent would be told to choose one. The name is only the
    browser's, so such a file is kept, under a placeholder name."""

    def sanitize_file_name(self, file_name):
        return super().sanitize_file_name(file_name) or NAMELESS


class NamedFileParserMiddleware:
    """Parse every multipart body with ``NamedFileParser``. It comes before the CSRF check,
    which is the first to read the posted form. A body the parser gives up on (part headers
    past their limit, more files or fields than allowed, too large) answers a sentence, as
    JSON to the page's script, instead of Django's bare "Bad Request". A view marked with
    ``config.http.reads_raw_body`` reads the body as sent, and refuses what it does not
    expect itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.parse_file_upload = lambda meta, body: _parse(request, meta, body)
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        length = request.META.get("CONTENT_LENGTH") or "0"
        # A length that is no number is refused later (accounts.MalformedRequestMiddleware).
        if (
            request.method == "POST"
            and request.content_type == "multipart/form-data"
            and length.isascii()
            and length.isdigit()
            and not getattr(view_func, "reads_raw_body", False)
        ):
            try:
                request.POST  # noqa: B018 (parsed now, so a failure is answered here)
            except UNREADABLE:
                return _unreadable(request)
        return None


UNREADABLE = (MultiPartParserError, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)
UNREADABLE_SENTENCE = gettext_lazy(
    "This upload could not be read: send one file at a time, and if its name is very long, "
    "rename it shorter first."
)


def _unreadable(request):
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"error": str(UNREADABLE_SENTENCE)}, status=400)
    return render(
        request, "records/upload_unreadable.html", {"sentence": UNREADABLE_SENTENCE}, status=400
    )


def _parse(request, meta, body):
    # As HttpRequest.parse_file_upload, with the parser above.
    request.upload_handlers = ImmutableList(
        request.upload_handlers,
        warning="You cannot alter upload handlers after the upload has been processed.",
    )
    return NamedFileParser(meta, body, request.upload_handlers, request.encoding).parse()
