"""Payment links: a Checkout Session a coordinator e-mails to the family."""

from django.conf import settings
from django.urls import reverse

from accounts.models import User
from billing.models import Payment, PaymentMethod
from billing.services.checkout import checkout_start
from intake.models import ReviewRequest
from notifications.services import message_queue


def payment_link_send(*, review_request: ReviewRequest, actor: User) -> Payment:
    """E-mail the family a link to pay online (a Checkout Session), through the outbox. The
    e-mail holds the link and the reference, nothing about the child."""
    reference = review_request.reference
    payment = checkout_start(
        review_request=review_request,
        method=PaymentMethod.LINK,
        actor=actor,
        success_url=settings.SITE_URL + reverse("billing:paid", args=[reference]),
        cancel_url=settings.SITE_URL + reverse("intake:request_detail", args=[reference]),
    )
    message_queue(
        to=review_request.family.email,
        template="payment_link",
        language=review_request.family.language,
        context={
            "reference": reference,
            "pay_url": payment.checkout_url,
            "fee": payment.amount_display,
        },
    )
    return payment
