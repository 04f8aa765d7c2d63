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
    readonly_fields = ("email_verified_at", "date_joined", "last_login")
    actions = ("reset_second_factor",)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = StaffUserCreationForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("email", "full_name", "role")
        return self.fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

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

    @admin.action(
        description="Reset second factor (they enrol again at next sign-in)", permissions=["change"]
    )
    def reset_second_factor(self, request, queryset):
        for user in queryset:
            services.second_factor_reset(user=user)
        self.message_user(
            request, f"Second factor reset for {queryset.count()} account(s).", messages.SUCCESS
        )
