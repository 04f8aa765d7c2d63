"""The payment part of the status page, for intake's template without intake importing billing."""

from django import template

from billing import stripe_api
from billing.selectors import payment_taken

register = template.Library()


@register.inclusion_tag("billing/_payment_panel.html", takes_context=True)
def payment_panel(context, review_request):
    user = context["request"].user
    return {
        "request": context["request"],
        "csrf_token": context.get("csrf_token"),
        "review_request": review_request,
        "taken": payment_taken(review_request=review_request),
        "online": stripe_api.stripe_configured() and review_request.family_id == user.pk,
    }
