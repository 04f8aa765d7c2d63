"""The extra pages of model admins (a move, a refund, a panel, a call's outcome): the
admin's own frame around a form or a report. In config so that every app may use it."""

from django.conf import settings
from django.template.response import TemplateResponse
from django.utils.module_loading import import_string

from accounts.request_info import client_ip


def admin_page(model_admin, request, template: str, *, title: str, status: int = 200, **context):
    """``template`` rendered with the admin site's context and ``model_admin``'s options
    (breadcrumbs, app name), as the admin's own pages are."""
    frame = {**model_admin.admin_site.each_context(request), "opts": model_admin.opts}
    return TemplateResponse(request, template, {**frame, "title": title, **context}, status=status)


def records_read(request, review_request_id: int) -> None:
    """Write to the access log that a staff member read a request's records on an admin page
    (before the page is sent). The function is named by ``settings.RECORDS_READ_LOG``: it
    lives in records, which intake's admin may not import."""
    import_string(settings.RECORDS_READ_LOG)(
        user=request.user, review_request_id=review_request_id, ip_address=client_ip(request)
    )


class RecordsReadLogged:
    """For a model admin whose change page shows a request's records (the child, the answers,
    an opinion, a family's question): each page shown is a line of the access log, as a
    reviewer's case page is."""

    def read_request_id(self, obj) -> int:
        return obj.request_id

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        original = (getattr(response, "context_data", None) or {}).get("original")
        if response.status_code == 200 and original is not None:
            records_read(request, self.read_request_id(original))
        return response
