from django import forms
from django.contrib import admin, messages
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from accounts.models import STAFF_ROLES, Role, User, normalize_email

# Authenticators are managed through the "reset second factor" action on users only: the
# device admin would show secrets and allow edits nobody needs.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


class StaffUserCreationForm(forms.ModelForm):
    role = forms.ChoiceField(
        choices=[(role.value, role.label) for role in Role if role in STAFF_ROLES]
    )

    class Meta:
        model = User
        fields = ("email", "full_name", "role")

    def clean_email(self):
        return normalize_email(self.cleaned_data["email"])


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    """Staff accounts are added here (families sign up themselves). An address never changes
    here: it is how the person signs in and receives links. Only a superuser can change or
    reset a superuser, so an admin cannot take over a more powerful account."""

    list_display = ("email", "full_name", "role", "is_active", "email_verified_at", "last_login")
    list_filter = ("role", "is_active")
    search_fields = ("email", "full_name")
    ordering = ("email",)
    fields = (
        "email",
        "full_name",
        "role",
        "is_active",
        "email_verified_at",
        "date_joined",
        "last_login",
    )
    readonly_fields = ("email", "email_verified_at", "date_joined", "last_login")
    actions = ("reset_second_factor", "resend_invitation")

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = StaffUserCreationForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return StaffUserCreationForm.Meta.fields if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if not change:
            # Families sign up themselves; the admin adds staff, who get a set-password link.
            created = services.staff_user_create(
                email=form.cleaned_data["email"],
                full_name=form.cleaned_data["full_name"],
                role=form.cleaned_data["role"],
            )
            obj.pk = created.pk
            return
        super().save_model(request, obj, form, change)
        if "role" in form.changed_data:
            services.user_set_role(user=obj, role=obj.role)

    def _changeable(self, request, queryset):
        return [user for user in queryset if self.has_change_permission(request, user)]

    @admin.action(
        description="Reset second factor (they enrol again at next sign-in)", permissions=["change"]
    )
    def reset_second_factor(self, request, queryset):
        users = self._changeable(request, queryset)
        for user in users:
            services.second_factor_reset(user=user)
            self.log_change(request, user, "Reset the second factor.")
        self.message_user(
            request, f"Second factor reset for {len(users)} account(s).", messages.SUCCESS
        )
        if skipped := queryset.count() - len(users):
            self.message_user(
                request, f"{skipped} superuser account(s) left as they were.", messages.WARNING
            )

    @admin.action(description="Resend the invitation to choose a password", permissions=["change"])
    def resend_invitation(self, request, queryset):
        sent = [
            user
            for user in self._changeable(request, queryset)
            if services.staff_invite_send(user=user)
        ]
        for user in sent:
            self.log_change(request, user, "Resent the invitation.")
        self.message_user(
            request,
            f"Invitation sent to {len(sent)} account(s); accounts that already chose a password "
            "were skipped.",
            messages.SUCCESS,
        )
