"""The coordinators' side of reviews: reviewer pools, the panel of each request (with the
least-loaded suggestion), and the delivery of signed opinions. Panels and deliveries change
only through their pages, which call the services; everything else here is read-only."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse

from accounts.models import Role, User
from config.admin_counts import LargeTableAdmin
from config.admin_pages import RecordsReadLogged, admin_page, records_read
from config.readonly_admin import ReadOnlyAdmin
from intake.lifecycle import Status
from intake.models import ReferringPediatrician, ReviewRequest
from reviews import selectors, services
from reviews.forms import DeliveryForm, PanelForm
from reviews.models import (
    DeadlineAlert,
    Delivery,
    FinalOpinion,
    FollowUpQuestion,
    ReviewAssignment,
    ReviewerProfile,
)


class ServicesField(forms.ModelMultipleChoiceField):
    """An id beyond the database's integers is refused like any unknown choice (on SQLite,
    looking it up raised OverflowError instead of finding nothing)."""

    def _check_values(self, value):
        try:
            return super()._check_values(value)
        except OverflowError:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": ", ".join(map(str, value))},
            ) from None


@admin.register(ReviewerProfile)
class ReviewerProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "credentials", "available")
    list_filter = ("available", "services")
    list_select_related = ("user",)
    search_fields = ("user__email", "user__full_name")
    filter_horizontal = ("services",)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = User.objects.filter(role=Role.REVIEWER)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return ("user",) if obj else ()

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs.setdefault("form_class", ServicesField)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


def _to_request(review_request: ReviewRequest) -> HttpResponseRedirect:
    return HttpResponseRedirect(
        reverse("admin:intake_reviewrequest_change", args=[review_request.pk])
    )


@admin.register(ReviewAssignment)
class ReviewAssignmentAdmin(ReadOnlyAdmin):
    """Every assignment ever made, with who ended it and why. Panels are set on the panel
    page of a request (linked from the request)."""

    list_display = (
        "request",
        "reviewer",
        "is_lead",
        "assigned_at",
        "removed_at",
        "decline_reason",
    )
    list_filter = ("is_lead", "decline_reason")
    list_select_related = ("request", "reviewer")
    search_fields = ("=request__reference", "reviewer__email")

    def get_urls(self):
        panel = self.admin_site.admin_view(self.panel_view)
        return [
            path("panel/<int:request_id>/", panel, name="reviews_panel"),
            *super().get_urls(),
        ]

    def panel_view(self, request, request_id):
        """Choose the request's panel: the least-loaded eligible reviewers are suggested."""
        if not request.user.has_perm("reviews.change_reviewassignment"):
            raise PermissionDenied
        review_request = ReviewRequest.objects.select_related("service").filter(pk=request_id)
        review_request = review_request.first()
        if review_request is None:
            raise Http404
        members = selectors.panel_members(review_request=review_request)
        eligible = selectors.panel_eligible(review_request=review_request, include_unavailable=True)
        suggested = selectors.panel_suggest(review_request=review_request)
        initial = _panel_initial(members, suggested)
        form = PanelForm(request.POST or None, eligible=eligible, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                services.panel_set(
                    review_request=review_request,
                    reviewers=list(form.cleaned_data["reviewers"]),
                    lead=form.cleaned_data["lead"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                )
            except (services.PanelError, services.ReviewClosed) as error:
                form.add_error(None, str(error))
            else:
                self.message_user(request, f"{review_request}: panel saved.", messages.SUCCESS)
                return _to_request(review_request)
        return admin_page(
            self,
            request,
            "admin/reviews/panel.html",
            title=f"Panel of {review_request.reference}",
            status=400 if form.errors else 200,
            original=review_request,
            form=form,
            members=members,
            suggested=suggested,
            required=review_request.service.reviewers_required,
        )


def _panel_initial(members, suggested) -> dict:
    if members:
        lead = next((m.reviewer for m in members if m.is_lead), None)
        return {"reviewers": [m.reviewer for m in members], "lead": lead}
    return {"reviewers": suggested, "lead": suggested[0] if suggested else None}


@admin.register(FinalOpinion)
class FinalOpinionAdmin(RecordsReadLogged, ReadOnlyAdmin):
    """Signed letters, to read and deliver (the delivery page, linked from the request)."""

    list_display = ("request", "lead", "conclusion", "signed_at")
    list_filter = ("conclusion",)
    list_select_related = ("request", "lead")
    search_fields = ("=request__reference",)

    def get_urls(self):
        deliver = self.admin_site.admin_view(self.deliver_view)
        return [
            path("deliver/<int:request_id>/", deliver, name="reviews_deliver"),
            *super().get_urls(),
        ]

    def deliver_view(self, request, request_id):
        """Read the letter, record the outreach to the family, and deliver."""
        if not request.user.has_perm("reviews.change_finalopinion"):
            raise PermissionDenied
        # Through the request's own id: an id beyond the database's integers then finds
        # nothing (through the foreign key, SQLite raised OverflowError).
        final = (
            FinalOpinion.objects.select_related("request__service", "letter", "lead")
            .filter(request__in=ReviewRequest.objects.filter(pk=request_id))
            .filter(signed_at__isnull=False)
            .first()
        )
        if final is None:
            raise Http404
        review_request = final.request
        records_read(request, review_request.pk)  # the letter is on the page
        form = DeliveryForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.opinion_deliver(
                    review_request=review_request, actor=request.user, **form.cleaned_data
                )
            except (services.PanelError, services.ReviewClosed) as error:
                form.add_error(None, str(error))
            else:
                self.message_user(request, f"{review_request}: delivered.", messages.SUCCESS)
                return _to_request(review_request)
        return admin_page(
            self,
            request,
            "admin/reviews/deliver.html",
            title=f"Deliver the opinion on {review_request.reference}",
            status=400 if form.errors else 200,
            original=review_request,
            form=form,
            final=final,
            pediatrician=ReferringPediatrician.objects.filter(request=review_request).first(),
            ready=review_request.status == Status.OPINION_READY,
        )


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ("request", "coordinator", "outreach_method", "delivered_at")
    list_select_related = ("request", "coordinator")
    search_fields = ("=request__reference",)


@admin.register(FollowUpQuestion)
class FollowUpQuestionAdmin(RecordsReadLogged, ReadOnlyAdmin):
    list_display = ("request", "asked_at", "answered_at")
    list_select_related = ("request",)
    search_fields = ("=request__reference",)


class RequestOpenFilter(admin.SimpleListFilter):
    """Whether the alert's request is still open (not delivered, refunded or cancelled): the
    dashboard's "all open breaches" link."""

    title = "request"
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", "Not delivered yet"), ("no", "Delivered or ended")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(request__in=selectors.requests_not_closed())
        if self.value() == "no":
            return queryset.exclude(request__in=selectors.requests_not_closed())
        return queryset


@admin.register(DeadlineAlert)
class DeadlineAlertAdmin(LargeTableAdmin, ReadOnlyAdmin):
    """Every deadline alert the sweep sent (one per request and kind)."""

    list_display = ("request", "kind", "threshold_at", "created_at", "late")
    list_filter = ("kind", RequestOpenFilter, "late", "created_at")
    list_select_related = ("request",)
    search_fields = ("=request__reference",)
