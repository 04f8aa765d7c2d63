"""A part the portal depends on is down for a moment: the object store (S3), or Redis (cache
and broker), or the machine is too busy to finish checking an upload in time. The visitor
gets a 503 "try again in a minute" page instead of a server error; the view's own
transactions have rolled back, so nothing is half-done (a row is never written without its
object: see ``records.services.document_upload``)."""

import logging

import botocore.exceptions
import kombu.exceptions
import redis.exceptions
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext

from records.sandbox import ChildBusy

logger = logging.getLogger(__name__)

OUTAGES = (
    botocore.exceptions.ConnectionError,  # endpoint refused, closed, timed out connecting
    botocore.exceptions.HTTPClientError,  # read timeouts and broken connections
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    kombu.exceptions.OperationalError,
    ChildBusy,  # too many files being checked at once for this one to finish in time
)


class OutageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OUTAGES):
            return None
        # The class name only: the message can carry hosts and credentials.
        logger.warning("A backing service is down (%s): answered 503.", type(exception).__name__)
        if request.headers.get("Accept", "").startswith("application/json"):
            message = gettext("We could not take this just now. Please try again in a minute.")
            response = JsonResponse({"error": message}, status=503)
        else:
            response = render(request, "503.html", status=503)
        response["Retry-After"] = "60"
        return response
