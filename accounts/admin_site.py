from functools import update_wrapper

from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.urls import reverse
from django.utils.module_loading import import_string


class PortalAdminSite(AdminSite):
    """The coordinators' and admins' workspace.

    It has no sign-in page of its own: the portal's sign-in, with its throttling and second
    factor, is the only way in. Signed-in people without admin access get a 404, as for any
    page that is not theirs.
    """

    index_title = "Coordinator workspace"

    def __init__(self, name="admin"):
        super().__init__(name)
        self.site_header = f"{settings.HOSPITAL_NAME} · Second opinions"
        self.site_title = self.site_header

    def has_permission(self, request):
        return super().has_permission(request) and request.user.is_verified()

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        def guarded(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("accounts:login"))
            if not self.has_permission(request):
                raise Http404
            return inner(request, *args, **kwargs)

        return update_wrapper(guarded, inner)

    def index(self, request, extra_context=None):
        """The app list, with the coordinators' dashboard above it. The dashboard comes from
        the apps above this one, named by the ``ADMIN_DASHBOARD`` setting; only people who
        may use the admin get here (``admin_view`` checks first)."""
        dashboard = import_string(settings.ADMIN_DASHBOARD)(request)
        return super().index(request, {"dashboard": dashboard, **(extra_context or {})})

    def login(self, request, extra_context=None):
        if request.user.is_authenticated:
            raise Http404
        next_url = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        return redirect_to_login(next_url, login_url=reverse("accounts:login"))
