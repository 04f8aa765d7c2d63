"""The opinion part of the family's status page, for intake's template without intake
importing reviews."""

from django import template
from django.conf import settings

from intake.lifecycle import Status
from reviews.forms import FollowUpForm
from reviews.models import FinalOpinion
from reviews.selectors import follow_ups_of

register = template.Library()


@register.inclusion_tag("reviews/_delivered_opinion.html", takes_context=True)
def delivered_opinion(context, review_request):
    """The summary, the letter, the addenda and the follow-up form, once delivered (the
    family sees nothing of the opinion before the coordinator delivers it)."""
    delivered = review_request.delivered_at is not None
    final = (
        FinalOpinion.objects.select_related("letter").filter(request=review_request).first()
        if delivered
        else None
    )
    follow_ups = list(follow_ups_of(review_request=review_request)) if final else []
    is_family = context["request"].user.pk == review_request.family_id
    can_ask = (
        is_family
        and review_request.status == Status.DELIVERED
        and len(follow_ups) < settings.REVIEWS_FOLLOW_UP_LIMIT
    )
    return {
        "request": context["request"],
        "csrf_token": context.get("csrf_token"),
        "review_request": review_request,
        "final": final,
        "follow_ups": follow_ups,
        "form": FollowUpForm() if can_ask else None,
        "questions_left": settings.REVIEWS_FOLLOW_UP_LIMIT - len(follow_ups),
    }
