from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and staff security"

    def ready(self):
        from accounts import signals  # noqa: F401  (connects the session-start stamp)
        from accounts.roles import sync_role_groups

        # Runs after each app's migrations; permissions of later apps exist by the last run.
        post_migrate.connect(
            lambda **kwargs: sync_role_groups(),
            dispatch_uid="accounts.sync_role_groups",
            weak=False,
        )


class PortalAdminConfig(AdminConfig):
    """The admin, behind the portal's own sign-in with a second factor."""

    default_site = "accounts.admin_site.PortalAdminSite"
