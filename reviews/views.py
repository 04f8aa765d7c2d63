from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.http import Http404
from django.shortcuts import render

from intake.selectors import review_requests_for_user


@login_required
def my_reviews(request):
    """A reviewer's assigned requests, the nearest due date first."""
    if not request.user.is_reviewer:
        raise Http404
    requests = review_requests_for_user(user=request.user).order_by(
        F("due_target_at").asc(nulls_last=True), "created_at"
    )
    return render(request, "reviews/my_reviews.html", {"requests": requests})
