"""The extra pages of model admins (a move, a refund, a panel, a call's outcome): the
admin's own frame around a form or a report. In config so that every app may use it."""

from django.template.response import TemplateResponse


def admin_page(model_admin, request, template: str, *, title: str, status: int = 200, **context):
    """``template`` rendered with the admin site's context and ``model_admin``'s options
    (breadcrumbs, app name), as the admin's own pages are."""
    frame = {**model_admin.admin_site.each_context(request), "opts": model_admin.opts}
    return TemplateResponse(request, template, {**frame, "title": title, **context}, status=status)
