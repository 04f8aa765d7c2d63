from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models.functions import Upper
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html_join

from accounts.models import Role, User, normalize_email
from config.admin_counts import LargeTableAdmin
from config.admin_pages import RecordsReadLogged, admin_page
from config.readonly_admin import ReadOnlyAdmin
from intake import services
from intake.admin_phone_led import InvitationInline, PhoneLedAdminMixin, SharedAccessInline
from intake.lifecycle import COORDINATOR_MOVES, NOTE_REQUIRED, Status
from intake.models import (
    REQUIRABLE_DOCUMENTS,
    Child,
    ConsentSignature,
    ConsentText,
    Department,
    Guardian,
    Question,
    Questionnaire,
    QuestionnaireAnswers,
    ReferringPediatrician,
    RequestEvent,
    ReviewRequest,
    ReviewService,
)
from intake.selectors import (
    questionnaire_answered,
)


class ListField(forms.CharField):
    """A list edited as text: comma-separated (or one per line with ``lines=True``)."""

    def __init__(self, *, lines=False, **kwargs):
        self.separator = "\n" if lines else ","
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3}) if lines else forms.TextInput)
        super().__init__(required=False, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, list):
            return (self.separator if self.separator == "\n" else ", ").join(value)
        return value

    def to_python(self, value):
        return [item.strip() for item in (value or "").split(self.separator) if item.strip()]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "phone", "time_zone", "call_length_minutes", "active")
    list_filter = ("active",)
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}
    fieldsets = (
        (None, {"fields": ("name", "slug", "summary", "phone", "time_zone", "active")}),
        ("In Spanish", {"fields": ("name_es", "summary_es")}),
        (
            "Informational calls",
            {
                "fields": (
                    "call_length_minutes",
                    "buffer_minutes",
                    "minimum_notice_hours",
                    "booking_horizon_days",
                    "max_calls_per_day",
                )
            },
        ),
        ("Document reviews", {"fields": ("alerts_email", "program_lead", "review_days")}),
    )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "program_lead":
            kwargs["queryset"] = User.objects.filter(role=Role.REVIEWER, is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ReviewServiceForm(forms.ModelForm):
    allowed_states = ListField(
        help_text="Two-letter codes, comma-separated, e.g. GA. Empty: any state."
    )
    excluded_zip_prefixes = ListField(
        help_text="ZIP codes or their first digits, comma-separated, e.g. 300, 301, 30303."
    )
    required_documents = forms.MultipleChoiceField(
        choices=[(kind.value, kind.label) for kind in REQUIRABLE_DOCUMENTS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = ReviewService
        fields = (
            "department",
            "name",
            "slug",
            "summary",
            "readers",
            "name_es",
            "summary_es",
            "readers_es",
            "fee_cents",
            "currency",
            "reviewers_required",
            "target_days",
            "limit_days",
            "allowed_states",
            "excluded_zip_prefixes",
            "max_patient_age",
            "required_documents",
            "active",
        )


@admin.register(ReviewService)
class ReviewServiceAdmin(admin.ModelAdmin):
    form = ReviewServiceForm
    list_display = (
        "name",
        "department",
        "fee_display",
        "reviewers_required",
        "target_days",
        "limit_days",
        "active",
    )
    list_filter = ("active", "department")
    list_select_related = ("department",)
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}
    actions = ("start_questionnaire_version",)

    @admin.display(description="Fee")
    def fee_display(self, obj):
        return obj.fee_display

    @admin.action(
        description="Start a new questionnaire version (a copy of the latest)",
        permissions=["change"],
    )
    def start_questionnaire_version(self, request, queryset):
        for service in queryset:
            draft = services.questionnaire_new_version(service=service)
            self.message_user(
                request, f"Started {draft}. Edit it, then publish it.", messages.SUCCESS
            )


class QuestionForm(forms.ModelForm):
    choices = ListField(lines=True, help_text="One option per line (choice questions only).")
    choices_es = ListField(
        lines=True,
        label="Choices in Spanish",
        help_text="The same options in Spanish, one per line, in the same order.",
    )

    class Meta:
        model = Question
        fields = (
            "position",
            "key",
            "text",
            "text_es",
            "help_text",
            "help_text_es",
            "kind",
            "choices",
            "choices_es",
            "required",
        )


class QuestionInline(admin.StackedInline):
    model = Question
    form = QuestionForm
    extra = 0
    ordering = ("position", "pk")

    def _published(self, obj):
        return obj is not None and obj.is_published

    def get_readonly_fields(self, request, obj=None):
        return QuestionForm.Meta.fields if self._published(obj) else ()

    def has_add_permission(self, request, obj=None):
        return not self._published(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not self._published(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._published(obj) and super().has_delete_permission(request, obj)


@admin.register(Questionnaire)
class QuestionnaireAdmin(admin.ModelAdmin):
    """Versions are started from the review service ("start a new questionnaire version"),
    edited while drafts, and frozen once published."""

    list_display = ("service", "version", "published_at")
    list_filter = ("service",)
    list_select_related = ("service",)
    readonly_fields = ("service", "version", "published_at", "created_at")
    fields = readonly_fields
    inlines = (QuestionInline,)
    actions = ("publish",)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return (obj is None or not obj.is_published) and super().has_delete_permission(request, obj)

    @admin.action(description="Publish (new requests answer this version)", permissions=["change"])
    def publish(self, request, queryset):
        for questionnaire in queryset:
            try:
                services.questionnaire_publish(questionnaire=questionnaire)
            except ValidationError as error:
                self.message_user(
                    request, f"{questionnaire}: {' '.join(error.messages)}", messages.ERROR
                )
            else:
                self.message_user(request, f"Published {questionnaire}.", messages.SUCCESS)


@admin.register(ConsentText)
class ConsentTextAdmin(admin.ModelAdmin):
    list_display = ("title", "version", "published_at")
    fields = ("title", "body", "title_es", "body_es", "version", "published_at")
    actions = ("publish",)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_published:
            return ("title", "body", "title_es", "body_es", "version", "published_at")
        return ("version", "published_at")

    def has_delete_permission(self, request, obj=None):
        return (obj is None or not obj.is_published) and super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # New versions get their number from the service, like questionnaires.
        created = services.consent_text_new_version(title=obj.title, body=obj.body)
        obj.pk, obj.version = created.pk, created.version

    @admin.action(
        description="Publish (families sign this version from now on)", permissions=["change"]
    )
    def publish(self, request, queryset):
        for consent_text in queryset:
            services.consent_text_publish(consent_text=consent_text)
        self.message_user(request, "Published.", messages.SUCCESS)


class RequestEventInline(admin.TabularInline):
    model = RequestEvent
    fields = ("created_at", "from_status", "to_status", "actor", "shown_note")
    readonly_fields = fields
    ordering = ("created_at", "pk")
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    @admin.display(description="note")
    def shown_note(self, event):
        return event.note_text

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AnyStatusField(forms.ChoiceField):
    """Offers the moves open when the page was drawn but accepts any status, so a move made
    impossible meanwhile is judged (and explained) by the lifecycle service under its lock."""

    def valid_value(self, value):
        return value in Status.values


class ReadOnlyDetailsInline(admin.StackedInline):
    """What the family entered, shown to staff as it is; nobody edits it here."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return [
            field.name for field in self.model._meta.fields if field.name not in {"id", "request"}
        ]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class GuardianInline(ReadOnlyDetailsInline):
    model = Guardian


class ChildInline(ReadOnlyDetailsInline):
    model = Child
    verbose_name_plural = "child"


class PediatricianInline(ReadOnlyDetailsInline):
    model = ReferringPediatrician


class ConsentSignatureInline(ReadOnlyDetailsInline):
    model = ConsentSignature


class AnswersInline(ReadOnlyDetailsInline):
    model = QuestionnaireAnswers
    verbose_name_plural = "questionnaire answers"

    def get_readonly_fields(self, request, obj=None):
        return ["questionnaire", "answered", "completed_at", "updated_at"]

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj)

    @admin.display(description="Answers")
    def answered(self, answers):
        """Each answer next to the question text of the version that was answered."""
        rows = [(text, answer or "—") for text, answer in questionnaire_answered(answers=answers)]
        return format_html_join("\n", "<p><strong>{}</strong><br>{}</p>", rows)


class MoveForm(forms.Form):
    to_status = AnyStatusField(label="Move to", widget=forms.RadioSelect)
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="The family reads this on its status page. Required when asking for "
        "information or cancelling.",
    )

    def __init__(self, *args, targets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_status"].choices = [(target.value, target.label) for target in targets]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("to_status") in NOTE_REQUIRED and not cleaned.get("note", "").strip():
            self.add_error("note", "Say what the family should know (what to send, or why).")
        return cleaned


def coordinator_targets(status: str) -> list[Status]:
    return [target for target in Status if (Status(status), target) in COORDINATOR_MOVES]


@admin.register(ReviewRequest)
class ReviewRequestAdmin(RecordsReadLogged, PhoneLedAdminMixin, LargeTableAdmin, admin.ModelAdmin):
    """Requests are read here; their status changes only through the moves offered on the
    "Move to…" page and the actions, which call the lifecycle service."""

    list_display = (
        "reference",
        "service",
        "family",
        "created_by",
        "status",
        "created_at",
        "submitted_at",
        "due_target_at",
    )
    list_filter = ("status", "service", "created_at")
    list_select_related = ("service", "family", "created_by")
    # Searched by get_search_results, through an index each: never a scan of every request.
    search_fields = ("=reference", "=family__email", "=guardian__email")
    search_help_text = "A reference, or the family's or guardian's whole e-mail address."
    inlines = (
        GuardianInline,
        ChildInline,
        AnswersInline,
        ConsentSignatureInline,
        PediatricianInline,
        SharedAccessInline,
        InvitationInline,
        RequestEventInline,
    )
    actions = ("start_review",)
    change_form_template = "admin/intake/reviewrequest/change_form.html"

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in ReviewRequest._meta.fields]

    def read_request_id(self, obj) -> int:
        return obj.pk

    def get_search_results(self, request, queryset, search_term):
        """A reference (any case) by its unique index; an e-mail address (with an "@") as the
        family's (stored in lower case) or the guardian's (by its upper-case index)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        if "@" not in term:
            return queryset.filter(reference=term.upper()), False
        families = User.objects.filter(email=normalize_email(term)).values("pk")
        guardians = (
            Guardian.objects.annotate(address=Upper("email"))
            .filter(address=term.upper())
            .values("request_id")
        )
        found = ReviewRequest.objects.filter(family__in=families).values("pk").union(guardians)
        return queryset.filter(pk__in=found), False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("start/", view(self.start_view), name="intake_reviewrequest_start"),
            path("phone-led/", view(self.funnel_view), name="intake_reviewrequest_funnel"),
            path("<path:object_id>/move/", view(self.move_view), name="intake_reviewrequest_move"),
            path(
                "<path:object_id>/invite/<str:kind>/",
                view(self.invite_view),
                name="intake_reviewrequest_invite",
            ),
            path(
                "<path:object_id>/links/<int:invitation_id>/revoke/",
                view(self.revoke_view),
                name="intake_reviewrequest_revoke",
            ),
            path(
                "<path:object_id>/guardians/<int:access_id>/remove/",
                view(self.remove_access_view),
                name="intake_reviewrequest_remove_access",
            ),
            *super().get_urls(),
        ]

    def move_view(self, request, object_id):
        review_request = self.get_object(request, object_id)
        if review_request is None:
            raise Http404
        if not self.has_change_permission(request, review_request):
            raise PermissionDenied
        targets = coordinator_targets(review_request.status)
        form = MoveForm(request.POST or None, targets=targets)
        if request.method == "POST" and form.is_valid():
            try:
                services.review_request_transition(
                    review_request=review_request,
                    to_status=form.cleaned_data["to_status"],
                    actor=request.user,
                    note=form.cleaned_data["note"],
                    only_moves=COORDINATOR_MOVES,
                )
            except services.InvalidTransition as error:
                form.add_error(None, str(error))
            else:
                self.message_user(request, f"{review_request} moved.", messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:intake_reviewrequest_change", args=[review_request.pk])
                )
        return admin_page(
            self,
            request,
            "admin/intake/reviewrequest/move.html",
            title=f"Move {review_request.reference}",
            original=review_request,
            form=form,
            targets=targets,
        )

    @admin.action(
        description="Confirm records received and start the review", permissions=["change"]
    )
    def start_review(self, request, queryset):
        for review_request in queryset.order_by("pk"):
            try:
                services.review_request_transition(
                    review_request=review_request,
                    to_status=Status.IN_REVIEW,
                    actor=request.user,
                    only_moves=COORDINATOR_MOVES,
                )
            except services.InvalidTransition as error:
                self.message_user(request, str(error), messages.WARNING)
            else:
                self.message_user(request, f"{review_request}: review started.", messages.SUCCESS)


@admin.register(RequestEvent)
class RequestEventAdmin(ReadOnlyAdmin):
    """The audit trail of every request: append-only, so read-only here."""

    list_display = ("created_at", "request", "from_status", "to_status", "actor")
    list_filter = ("to_status",)
    list_select_related = ("request", "actor")
    search_fields = ("=request__reference",)
    date_hierarchy = "created_at"
