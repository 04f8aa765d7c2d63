from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse

from accounts.models import Role
from billing import services, stripe_api
from billing.models import Payment, Refund, StripeEvent, WebhookAttempt
from billing.selectors import payment_refundable_cents, refund_requested_cents
from config.admin_counts import LargeTableAdmin
from config.admin_pages import admin_page
from config.readonly_admin import ReadOnlyAdmin
from intake.admin import ReviewRequestAdmin
from intake.lifecycle import Status
from intake.models import ReviewRequest, money


class PhonePaymentForm(forms.Form):
    request = forms.ModelChoiceField(
        queryset=ReviewRequest.objects.filter(
            Q(status=Status.AWAITING_PAYMENT)
            | Q(status=Status.DRAFT, created_by__role__in=[Role.COORDINATOR, Role.ADMIN])
        ).select_related("family"),
        label="Request awaiting payment (or started by a coordinator, paid in advance)",
    )
    amount = forms.DecimalField(
        label="Amount taken (dollars)",
        min_value=1,
        max_digits=8,
        decimal_places=2,
        help_text="Filled in with the fee the request owes.",
    )
    reference = forms.CharField(
        label="Card's last four digits, or the terminal's reference", max_length=100
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class NeedsAttention(admin.SimpleListFilter):
    title = "needs attention"
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [("yes", "Needs attention")]

    def queryset(self, request, queryset):
        return queryset.exclude(attention="") if self.value() == "yes" else queryset


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        label="Amount to refund (dollars)", min_value=0.01, max_digits=8, decimal_places=2
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), help_text="Kept with the refund."
    )


@admin.register(Payment)
class PaymentAdmin(LargeTableAdmin, admin.ModelAdmin):
    """Payments, read-only. Phone payments are recorded through their own form, which calls
    the billing service (and so the lifecycle): never by editing a row."""

    list_display = (
        "created_at",
        "request",
        "method",
        "status",
        "amount_display",
        "recorded_by",
        "attention",
    )
    list_filter = (NeedsAttention, "status", "method", "created_at")
    list_select_related = ("request", "recorded_by")
    search_fields = ("=request__reference", "reference", "stripe_checkout_session_id")

    @admin.display(description="Amount")
    def amount_display(self, payment):
        return payment.amount_display

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Payment._meta.fields]

    change_form_template = "admin/billing/payment/change_form.html"

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        refund = self.admin_site.admin_view(self.refund_view)
        return [
            path("<path:object_id>/refund/", refund, name="billing_payment_refund"),
            *super().get_urls(),
        ]

    def refund_view(self, request, object_id):
        """Refund all or part of a payment: admins, or coordinators given the permission."""
        if not request.user.has_perm("billing.refund_payment"):
            raise PermissionDenied
        payment = self.get_object(request, object_id)
        if payment is None:
            raise Http404
        # The same sum the refund service checks: a refund pending at Stripe is not offered.
        left = payment_refundable_cents(payment=payment)
        pending = refund_requested_cents(payment=payment) - payment.refunded_cents
        form = RefundForm(request.POST or None, initial={"amount": Decimal(left).scaleb(-2)})
        if request.method == "POST" and form.is_valid():
            try:
                services.payment_refund(
                    payment=payment,
                    amount_cents=int(form.cleaned_data["amount"] * 100),
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                )
            except services.PaymentRefused as refused:
                form.add_error(None, str(refused))
            else:
                self.message_user(request, "Refund recorded.", messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:billing_payment_change", args=[payment.pk])
                )
        return admin_page(
            self,
            request,
            "admin/billing/payment/refund.html",
            title=f"Refund {payment}",
            form=form,
            original=payment,
            left=money(left, payment.currency),
            pending=money(pending, payment.currency) if pending > 0 else "",
        )

    def add_view(self, request, form_url="", extra_context=None):
        """The add page records a payment taken by phone."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        initial = {}
        # "?request=<id>" from the request's page; anything but a number chooses nothing.
        wanted = request.GET.get("request", "")
        chosen = ReviewRequest.objects.filter(pk=wanted).first() if wanted.isdigit() else None
        if chosen is not None:
            fee = chosen.fee_cents or chosen.service.fee_cents
            initial = {"request": chosen.pk, "amount": fee / 100}
        form = PhonePaymentForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                payment = services.payment_record_phone(
                    review_request=form.cleaned_data["request"],
                    amount_cents=int(form.cleaned_data["amount"] * 100),
                    reference=form.cleaned_data["reference"],
                    note=form.cleaned_data["note"],
                    actor=request.user,
                )
            except services.PaymentRefused as refused:
                form.add_error(None, str(refused))
            else:
                started = (
                    "the review clock is running"
                    if payment.request.status != Status.DRAFT
                    else "the review starts when the family sends the request"
                )
                self.message_user(request, f"{payment} recorded; {started}.", messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:intake_reviewrequest_change", args=[payment.request_id])
                )
        return admin_page(
            self,
            request,
            "admin/billing/payment/phone.html",
            title="Record a payment taken by phone",
            form=form,
        )


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "payment", "amount_cents", "recorded_by")
    list_select_related = ("payment__request", "recorded_by")


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "type", "event_id", "object_id")
    list_filter = ("type",)
    search_fields = ("=event_id", "=object_id")


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "outcome", "event_type", "event_id", "reason", "ip_address")
    list_filter = ("outcome",)


@admin.action(description="Send a payment link by e-mail", permissions=["change"])
def send_payment_link(modeladmin, request, queryset):
    if not stripe_api.stripe_configured():
        modeladmin.message_user(
            request, "Online payment is not set up: take the fee by phone.", messages.ERROR
        )
        return
    for review_request in queryset.select_related("family"):
        try:
            services.payment_link_send(review_request=review_request, actor=request.user)
        except services.PaymentRefused as refused:
            modeladmin.message_user(request, str(refused), messages.WARNING)
        else:
            modeladmin.message_user(
                request, f"Payment link sent for {review_request}.", messages.SUCCESS
            )


# Requests are intake's, payment links billing's: added here, since intake may not import billing.
ReviewRequestAdmin.actions = (*ReviewRequestAdmin.actions, send_payment_link)
