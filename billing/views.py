from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.request_info import client_ip
from billing import services, stripe_api
from billing.models import PaymentMethod
from billing.selectors import online_payment_latest, payment_for_receipt, payment_taken
from config.http import reads_raw_body
from intake.selectors import review_request_get_for_family, review_request_get_for_user


@require_POST
@login_required
def pay(request, reference):
    """The family's Pay button: off to Stripe Checkout for the fee its request owes."""
    review_request = review_request_get_for_family(user=request.user, reference=reference)
    if not stripe_api.stripe_configured():
        raise Http404
    back = settings.SITE_URL + reverse("intake:request_detail", args=[reference])
    try:
        payment = services.checkout_start(
            review_request=review_request,
            method=PaymentMethod.CHECKOUT,
            actor=request.user,
            success_url=settings.SITE_URL + reverse("billing:paid", args=[reference]),
            cancel_url=back,
        )
    except services.PaymentRefused as refused:
        messages.info(request, str(refused))
        return redirect("intake:request_detail", reference=reference)
    return redirect(payment.checkout_url)


@login_required
def paid(request, reference):
    """Where Stripe sends the family back. It never marks anything paid: it says so once the
    verified webhook has, and until then shows that the payment is being confirmed."""
    review_request = review_request_get_for_user(user=request.user, reference=reference)
    context = {
        "review_request": review_request,
        "taken": payment_taken(review_request=review_request),
        "latest": online_payment_latest(review_request=review_request),
    }
    return render(request, "billing/paid.html", context)


@reads_raw_body
@csrf_exempt
@require_POST
def stripe_webhook(request):
    try:
        services.stripe_webhook_receive(
            body=request.body,
            signature=request.META.get("HTTP_STRIPE_SIGNATURE", ""),
            ip_address=client_ip(request),
        )
    except services.WebhookRejected:
        return HttpResponseBadRequest("Signature or payload rejected.")
    return HttpResponse(status=200)


@login_required
def receipt(request, reference):
    """A receipt the family can print, with a summary to give an HSA or an insurer."""
    review_request = review_request_get_for_user(user=request.user, reference=reference)
    payment = payment_for_receipt(review_request=review_request)
    if payment is None:
        raise Http404
    return render(
        request, "billing/receipt.html", {"review_request": review_request, "payment": payment}
    )
