from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from intake.selectors import (
    catalogue_departments,
    request_timeline,
    review_request_get_for_user,
    review_requests_for_user,
)


def catalogue(request):
    """The public front page: departments to call, and the document reviews on offer."""
    return render(request, "intake/catalogue.html", {"departments": catalogue_departments()})


@login_required
def my_requests(request):
    if not request.user.is_family:
        raise Http404
    requests = review_requests_for_user(user=request.user).order_by("-created_at")
    return render(request, "intake/my_requests.html", {"requests": requests})


@login_required
def request_detail(request, reference):
    review_request = review_request_get_for_user(user=request.user, reference=reference)
    events = request_timeline(review_request=review_request)
    return render(
        request, "intake/request_detail.html", {"review_request": review_request, "events": events}
    )
