"""The request admin's pages for requests started by phone and for who shares a request:
start one, e-mail links, withdraw them, remove a second guardian, and the funnel. A mixin of
``ReviewRequestAdmin`` (``intake/admin.py``), which names their URLs."""

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from config.admin_pages import admin_page
from intake import services
from intake.eligibility import EligibilityAnswers
from intake.forms import CoordinatorStartForm, InviteForm
from intake.models import Invitation, ReviewRequest, SharedAccess
from intake.selectors import (
    guardian_email,
    invitation_open_of,
    links_unused,
    pediatrician_email,
    phone_led_counts,
    phone_led_requests,
    shared_accesses,
)

# The funnel's page: as many as a coordinator reads through at once (a page of the requests
# changelist is 100); older ones are a page away.
FUNNEL_PAGE_SIZE = 50


class ReadOnlyInline(admin.TabularInline):
    fk_name = "request"
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class SharedAccessInline(ReadOnlyInline):
    """Second guardians, current and removed (who removed them, when): removed with the
    button above, never edited."""

    model = SharedAccess
    fields = (
        "legal_name",
        "user",
        "relationship",
        "has_legal_authority",
        "granted_at",
        "removed_at",
        "removed_by",
    )
    readonly_fields = fields
    verbose_name_plural = "second guardians"


class InvitationInline(ReadOnlyInline):
    """Every link sent for the request, read-only: its state, who sent it, when it was opened
    and used. Links are sent and withdrawn with the buttons above."""

    model = Invitation
    fields = ("kind", "email", "created_by", "created_at", "expires_at", "opened_at", "used")
    readonly_fields = fields
    verbose_name_plural = "invitations and upload links"

    @admin.display(description="State")
    def used(self, invitation):
        if invitation.pk is None:  # a blank row, made from a tampered post's form count
            return "—"
        state = invitation.state_at(timezone.now())
        if state == "accepted":
            return f"used {invitation.accepted_at:%b %d, %H:%M}"
        return state


class PhoneLedAdminMixin:
    """The pages; ``ReviewRequestAdmin.get_urls`` routes to them."""

    def _changeable(self, request, object_id) -> ReviewRequest:
        review_request = self.get_object(request, object_id)
        if review_request is None:
            raise Http404
        if not self.has_change_permission(request, review_request):
            raise PermissionDenied
        return review_request

    def _to_change_page(self, review_request):
        return HttpResponseRedirect(
            reverse("admin:intake_reviewrequest_change", args=[review_request.pk])
        )

    def start_view(self, request):
        """Start a request for a family on the phone: the public eligibility check, then
        what the family says. Next: take the fee by phone if they wish, and invite them."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = CoordinatorStartForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                review_request = services.review_request_start_for_family(
                    service=data["service"],
                    eligibility=EligibilityAnswers(
                        state=data["state"],
                        zip_code=data["zip_code"],
                        patient_age=data["patient_age"],
                        hospitalized=data["hospitalized"],
                    ),
                    guardian={name: data[name] for name in form.GUARDIAN_FIELDS},
                    child={
                        name: data[name] or ("" if name != "date_of_birth" else None)
                        for name in form.CHILD_FIELDS
                    },
                    language=data["language"] or settings.LANGUAGE_CODE,
                    actor=request.user,
                )
            except ValidationError as refused:
                form.add_error(None, refused)
            else:
                self.message_user(
                    request,
                    f"{review_request} started for {data['legal_name']}. Take the fee by phone "
                    "if they wish, then send the invitation.",
                    messages.SUCCESS,
                )
                return self._to_change_page(review_request)
        return admin_page(
            self,
            request,
            "admin/intake/reviewrequest/start.html",
            title="Start a request for a family",
            form=form,
            status=400 if form.errors else 200,
        )

    def invite_view(self, request, object_id, kind):
        """E-mail the family its invitation, a second guardian theirs, or the pediatrician
        an upload link; the address is filled in from what the request knows."""
        review_request = self._changeable(request, object_id)
        if kind not in Invitation.Kind.values:
            raise Http404
        form = InviteForm(
            request.POST or None, initial={"email": _known_email(review_request, kind)}
        )
        if request.method == "POST" and form.is_valid():
            try:
                services.invitation_send(
                    review_request=review_request,
                    kind=kind,
                    email=form.cleaned_data["email"],
                    actor=request.user,
                )
            except ValidationError as refused:
                form.add_error(None, refused)
            else:
                self.message_user(
                    request,
                    f"{Invitation.Kind(kind).label} link e-mailed to {form.cleaned_data['email']}.",
                    messages.SUCCESS,
                )
                return self._to_change_page(review_request)
        return admin_page(
            self,
            request,
            "admin/intake/reviewrequest/invite.html",
            title=f"{review_request.reference}: e-mail a link ({Invitation.Kind(kind).label})",
            original=review_request,
            form=form,
            kind=kind,
            open_link=invitation_open_of(review_request=review_request, kind=kind),
            days=settings.PEDIATRICIAN_LINK_DAYS
            if kind == Invitation.Kind.PEDIATRICIAN
            else settings.INVITATION_DAYS,
        )

    def revoke_view(self, request, object_id, invitation_id):
        review_request = self._changeable(request, object_id)
        if request.method != "POST":
            return self._to_change_page(review_request)
        invitation = review_request.invitations.filter(pk=invitation_id).first()
        if invitation is None:
            raise Http404
        services.invitation_revoke(invitation=invitation, actor=request.user)
        self.message_user(request, "The link no longer works.", messages.SUCCESS)
        return self._to_change_page(review_request)

    def remove_access_view(self, request, object_id, access_id):
        review_request = self._changeable(request, object_id)
        if request.method != "POST":
            return self._to_change_page(review_request)
        access = review_request.shared_accesses.filter(pk=access_id).first()
        if access is None:
            raise Http404
        services.shared_access_remove(access=access, actor=request.user)
        self.message_user(request, f"{access.legal_name}'s access removed.", messages.SUCCESS)
        return self._to_change_page(review_request)

    def funnel_view(self, request):
        """The requests coordinators started, at their stage, so no family is forgotten: a
        page of them at a time, the newest first (``?page=2`` for older ones)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        asked = request.GET.get("page", "1")
        # Plain digits only, up to page 10,000: anything else is the first page.
        number = int(asked) if asked.isascii() and asked.isdigit() and len(asked) <= 5 else 1
        number = number if 1 <= number <= 10_000 else 1
        # One more than a page tells whether there are older ones, without counting them.
        lines = phone_led_requests(
            now=timezone.now(), limit=FUNNEL_PAGE_SIZE + 1, offset=(number - 1) * FUNNEL_PAGE_SIZE
        )
        older = len(lines) > FUNNEL_PAGE_SIZE
        lines = lines[:FUNNEL_PAGE_SIZE]
        return admin_page(
            self,
            request,
            "admin/intake/reviewrequest/funnel.html",
            title="Requests started by phone",
            lines=lines,
            counts=phone_led_counts(lines),
            page_number=number,
            # Past the last page, "newer" leads back to the first.
            newer_page=(number - 1 if lines else 1) if number > 1 else None,
            older_page=number + 1 if older else None,
            reminder_days=settings.INVITATION_REMINDER_DAYS,
        )

    def render_change_form(self, request, context, *args, obj=None, **kwargs):
        if obj is not None:
            context["shared_accesses"] = shared_accesses(review_request=obj)
            # The links this request may be sent now (a family's, only until it has joined;
            # the others, only once it has).
            context["invitable"] = {
                kind
                for kind, statuses in services.INVITABLE.items()
                if obj.status in statuses
                and (kind == Invitation.Kind.FAMILY) == (obj.family_id is None)
            }
            context["open_links"] = links_unused(review_request=obj)
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)


def _known_email(review_request: ReviewRequest, kind: str) -> str:
    if kind == Invitation.Kind.FAMILY:
        return guardian_email(review_request=review_request)
    if kind == Invitation.Kind.PEDIATRICIAN:
        return pediatrician_email(review_request=review_request)
    return ""
