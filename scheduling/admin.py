"""The coordinators' side of calls: availability, the calls themselves (notes, outcome,
recommendation), appointments, and an overview of the week."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html_join

from accounts.models import Role, User
from config.admin_counts import LargeTableAdmin
from config.admin_pages import admin_page
from scheduling import selectors, services
from scheduling.forms import (
    AppointmentCancelForm,
    AppointmentMoveForm,
    OutcomeForm,
    PrecallForm,
)
from scheduling.models import (
    OUTCOMES,
    Appointment,
    AppointmentLocation,
    AvailabilityException,
    Booking,
    Coordinator,
    WeeklyHours,
)


class WeeklyHoursInline(admin.TabularInline):
    model = WeeklyHours
    extra = 1


@admin.register(Coordinator)
class CoordinatorAdmin(admin.ModelAdmin):
    list_display = ("user", "department", "active")
    list_filter = ("department", "active")
    list_select_related = ("user", "department")
    inlines = (WeeklyHoursInline,)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = User.objects.filter(
                role__in=(Role.COORDINATOR, Role.ADMIN), is_active=True
            ).order_by("email")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(AvailabilityException)
class AvailabilityExceptionAdmin(admin.ModelAdmin):
    list_display = ("date", "department", "coordinator", "kind", "start_time", "end_time", "note")
    list_filter = ("department", "kind")
    list_select_related = ("department", "coordinator__user")
    date_hierarchy = "date"


class WhenFilter(admin.SimpleListFilter):
    title = "when"
    parameter_name = "when"

    def lookups(self, request, model_admin):
        return (
            ("today", "Today"),
            ("week", "This week"),
            ("upcoming", "Upcoming"),
            ("past", "Past"),
        )

    def queryset(self, request, queryset):
        zone = ZoneInfo(settings.TIME_ZONE)
        now = timezone.now()
        today = timezone.localtime(now, zone).replace(hour=0, minute=0, second=0, microsecond=0)
        ranges = {
            "today": (today, today + timedelta(days=1)),
            "week": (
                today - timedelta(days=today.weekday()),
                today + timedelta(days=7 - today.weekday()),
            ),
        }
        if self.value() in ranges:
            start, end = ranges[self.value()]
            return queryset.filter(starts_at__gte=start, starts_at__lt=end)
        if self.value() == "upcoming":
            return queryset.filter(starts_at__gte=now)
        if self.value() == "past":
            return queryset.filter(starts_at__lt=now)
        return queryset


def _step_page(model_admin, request, original, form, act, *, title, submit, done, refused):
    """One step on a call or an appointment: the form, then the service (``act`` gets the
    cleaned data). A refusal is shown on the form with everything typed kept; success goes
    back to the object's page."""
    if request.method == "POST" and form.is_valid():
        try:
            act(**form.cleaned_data)
        except refused as refusal:
            form.add_error(None, str(refusal))
        else:
            model_admin.message_user(request, done, messages.SUCCESS)
            opts = model_admin.opts
            return HttpResponseRedirect(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[original.pk])
            )
    return admin_page(
        model_admin,
        request,
        f"admin/scheduling/{model_admin.opts.model_name}/action.html",
        title=title,
        original=original,
        form=form,
        submit=submit,
    )


def _to_change(model_admin, request, object_id):
    """The object, if this person may change it (a 404 if it does not exist)."""
    obj = model_admin.get_object(request, object_id)
    if obj is None:
        raise Http404
    if not model_admin.has_change_permission(request, obj):
        raise PermissionDenied
    return obj


# The one-click steps on a call's page: (title, button, service, success message).
BOOKING_STEPS = {
    "precall": (
        "Send the pre-call form",
        "Send the form",
        services.booking_precall_send,
        "The pre-call form was sent.",
    ),
    "invite": (
        "Invite the family to start the recommended document review",
        "Send the invitation",
        services.booking_invite_to_review,
        "The invitation was sent.",
    ),
    "cancel": ("Cancel this call", "Cancel the call", services.booking_cancel, "Call cancelled."),
}


class CoordinatorFilter(admin.RelatedFieldListFilter):
    """The people set up to take calls, not those found in the calls (which would read all
    of them)."""

    def field_choices(self, field, request, model_admin):
        return field.get_choices(
            include_blank=False,
            ordering=("email",),
            limit_choices_to={"pk__in": Coordinator.objects.values("user")},
        )


@admin.register(Booking)
class BookingAdmin(LargeTableAdmin, admin.ModelAdmin):
    list_display = ("local_start", "department", "coordinator", "status", "parent_name", "pre_call")
    list_filter = (
        WhenFilter,
        "status",
        "department",
        ("coordinator", CoordinatorFilter),
        "starts_at",
    )
    list_select_related = ("department", "coordinator")
    search_fields = ("=email", "parent_name")
    change_form_template = "admin/scheduling/booking/change_form.html"
    change_list_template = "admin/scheduling/booking/change_list.html"
    fieldsets = (
        (
            "The call",
            {"fields": ("local_start", "department", "coordinator", "status", "moved_from")},
        ),
        (
            "The family",
            {
                "fields": (
                    "parent_name",
                    "phone",
                    "email",
                    "child_first_name",
                    "child_age",
                    "diagnosis",
                    "current_hospital",
                    "reason",
                    "family_time_zone",
                    "family",
                )
            },
        ),
        ("Before the call", {"fields": ("precall_sent_at", "precall", "reminders_sent")}),
        (
            "After the call",
            {
                "fields": (
                    "call_notes",
                    "programs_recommended",
                    "next_step",
                    "recommended_service",
                    "outcome_recorded_at",
                    "outcome_recorded_by",
                    "review_invited_at",
                )
            },
        ),
    )

    def get_readonly_fields(self, request, obj=None):
        # Everything: changes go through the outcome form and the buttons (services).
        return [field for fieldset in self.fieldsets for field in fieldset[1]["fields"]]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Starts", ordering="starts_at")
    def local_start(self, booking):
        return f"{booking.department_time:%a %b %d, %Y %I:%M %p} ({booking.department.time_zone})"

    @admin.display(description="Pre-call form", boolean=True)
    def pre_call(self, booking):
        return booking.precall_answered_at is not None if booking.precall_sent_at else None

    @admin.display(description="Moved from")
    def moved_from(self, booking):
        return self.local_start(booking.rescheduled_from) if booking.rescheduled_from else "—"

    @admin.display(description="Pre-call answers")
    def precall(self, booking):
        if not booking.precall_answers:
            return "—"
        return format_html_join(
            "",
            "<p><strong>{}</strong><br>{}</p>",
            (
                (PrecallForm.QUESTIONS.get(key, key), value or "—")
                for key, value in booking.precall_answers.items()
            ),
        )

    @admin.display(description="Reminders sent")
    def reminders_sent(self, booking):
        return ", ".join(r.get_kind_display() for r in booking.reminders.all()) or "—"

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete": False,
        }
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("overview/", view(self.overview_view), name="scheduling_booking_overview"),
            path(
                "<path:object_id>/outcome/",
                view(self.outcome_view),
                name="scheduling_booking_outcome",
            ),
            path(
                "<path:object_id>/step/<str:step>/",
                view(self.step_view),
                name="scheduling_booking_step",
            ),
            *super().get_urls(),
        ]

    def _booking_to_change(self, request, object_id) -> Booking:
        return _to_change(self, request, object_id)

    def _action(self, request, booking, form, act, *, title, submit, done):
        return _step_page(
            self,
            request,
            booking,
            form,
            act,
            title=title,
            submit=submit,
            done=done,
            refused=services.BookingRefused,
        )

    def outcome_view(self, request, object_id):
        booking = self._booking_to_change(request, object_id)
        initial = {
            "outcome": booking.status if booking.status in OUTCOMES else Booking.Status.COMPLETED,
            "call_notes": booking.call_notes,
            "programs_recommended": booking.programs_recommended,
            "next_step": booking.next_step,
            "recommended_service": booking.recommended_service,
        }
        return self._action(
            request,
            booking,
            OutcomeForm(request.POST or None, initial=initial),
            lambda **fields: services.booking_record_outcome(
                booking=booking, actor=request.user, **fields
            ),
            title="Record the call",
            submit="Save",
            done="The call was recorded.",
        )

    def step_view(self, request, object_id, step):
        booking = self._booking_to_change(request, object_id)
        if step not in BOOKING_STEPS:
            raise Http404
        title, button, service, done = BOOKING_STEPS[step]
        return self._action(
            request,
            booking,
            # A confirmation without fields: bound on any POST (an empty POST is still a yes).
            forms.Form(request.POST if request.method == "POST" else None),
            lambda: service(booking=booking, actor=request.user),
            title=title,
            submit=button,
            done=done,
        )

    def overview_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        zone = ZoneInfo(settings.TIME_ZONE)
        overview = selectors.calls_overview(now=timezone.now(), zone=zone)
        return admin_page(
            self,
            request,
            "admin/scheduling/booking/overview.html",
            title="Calls overview",
            zone=settings.TIME_ZONE,
            **overview,
        )


@admin.register(AppointmentLocation)
class AppointmentLocationAdmin(admin.ModelAdmin):
    list_display = ("name",)
    search_fields = ("name",)


CHECKLIST = ("records_requested", "payment_discussed", "tests_before_visit", "logistics_sent")
AFTER_SET_UP = (
    "Status and changes",
    {
        "fields": (
            "status",
            "cancelled_at",
            "cancelled_by",
            "cancellation_reason",
            "change_history",
        )
    },
)


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = ("starts_at", "department", "kind", "provider", "status", *CHECKLIST)
    list_filter = ("status", "kind", "department")
    list_select_related = ("department",)
    raw_id_fields = ("booking",)
    date_hierarchy = "starts_at"
    change_form_template = "admin/scheduling/appointment/change_form.html"
    fieldsets = (
        (
            "The visit",
            {
                "fields": (
                    "booking",
                    "department",
                    "kind",
                    "provider",
                    "location",
                    "video_link",
                    "starts_at",
                    "duration_minutes",
                )
            },
        ),
        ("The family", {"fields": ("parent_name", "email", "child_first_name")}),
        ("Coordination checklist", {"fields": CHECKLIST}),
    )

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "video_link":
            kwargs["assume_scheme"] = "https"
        if db_field.name == "starts_at":
            kwargs["help_text"] = f"In the hospital's time zone, {settings.TIME_ZONE}."
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_fieldsets(self, request, obj=None):
        return self.fieldsets if obj is None else (*self.fieldsets, AFTER_SET_UP)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # Once set up (and the invite sent), only the checklist changes here; the time and
        # place change through "Move", the status through "Cancel" (services, new invites).
        return [
            f
            for fieldset in self.get_fieldsets(request, obj)
            for f in fieldset[1]["fields"]
            if f not in CHECKLIST
        ]

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Changes after set-up")
    def change_history(self, appointment):
        changes = appointment.changes.select_related("actor").order_by("created_at")
        return (
            format_html_join(
                "",
                "<p>{} on {} by {}: {} → {}</p>",
                (
                    (
                        change.get_kind_display(),
                        _hospital_time(change.created_at),
                        change.actor,
                        _time_and_place(change.before),
                        _time_and_place(change.after) if change.after else "cancelled",
                    )
                    for change in changes
                ),
            )
            or "—"
        )

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        booking_id = request.GET.get("booking", "")
        booking = Booking.objects.filter(pk=booking_id).first() if booking_id.isdigit() else None
        if booking is not None:
            initial |= {
                "booking": booking.pk,
                "department": booking.department_id,
                "parent_name": booking.parent_name,
                "email": booking.email,
                "child_first_name": booking.child_first_name,
                "kind": "in_person" if booking.next_step == "in_person" else "virtual",
            }
        return initial

    def save_model(self, request, obj, form, change):
        if change:
            services.appointment_update_checklist(
                appointment=obj,
                actor=request.user,
                **{name: form.cleaned_data[name] for name in CHECKLIST},
            )
            return
        fields = {name: form.cleaned_data[name] for name in form.cleaned_data}
        created = services.appointment_create(actor=request.user, **fields)
        obj.pk = created.pk

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/move/",
                view(self.move_view),
                name="scheduling_appointment_move",
            ),
            path(
                "<path:object_id>/cancel/",
                view(self.cancel_view),
                name="scheduling_appointment_cancel",
            ),
            *super().get_urls(),
        ]

    def move_view(self, request, object_id):
        appointment = _to_change(self, request, object_id)
        return _step_page(
            self,
            request,
            appointment,
            AppointmentMoveForm(request.POST or None, appointment=appointment),
            lambda **fields: services.appointment_move(
                appointment=appointment, actor=request.user, **fields
            ),
            title="Move this appointment",
            submit="Move and send the new invite",
            done="The appointment was moved; the family was sent the updated invite.",
            refused=services.AppointmentRefused,
        )

    def cancel_view(self, request, object_id):
        appointment = _to_change(self, request, object_id)
        return _step_page(
            self,
            request,
            appointment,
            AppointmentCancelForm(request.POST or None),
            lambda reason: services.appointment_cancel(
                appointment=appointment, reason=reason, actor=request.user
            ),
            title="Cancel this appointment",
            submit="Cancel the appointment",
            done="The appointment was cancelled; the family was sent the calendar cancellation.",
            refused=services.AppointmentRefused,
        )


def _hospital_time(instant) -> str:
    return f"{timezone.localtime(instant, ZoneInfo(settings.TIME_ZONE)):%b %d, %Y %I:%M %p}"


def _time_and_place(snapshot: dict) -> str:
    """An appointment's time and place as an ``AppointmentChange`` keeps them."""
    starts_at = datetime.fromisoformat(snapshot["starts_at"])
    return f"{_hospital_time(starts_at)}, {snapshot['place']}"
