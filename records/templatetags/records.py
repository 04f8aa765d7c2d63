"""The upload panel, usable from any page (wizard steps, the status page) without the page's
own app importing records."""

from django import template
from django.urls import reverse
from django.utils.http import urlencode

from intake.models import DocumentKind
from records.filetypes import ACCEPTED
from records.selectors import documents_for_request, held_files_for_request

register = template.Library()

KINDS = {
    "referral": [DocumentKind.REFERRAL],
    "documents": [DocumentKind.RECORD, DocumentKind.IMAGING, DocumentKind.OTHER],
    "all": [DocumentKind.RECORD, DocumentKind.IMAGING, DocumentKind.REFERRAL, DocumentKind.OTHER],
}


@register.inclusion_tag("records/_uploads.html", takes_context=True)
def upload_panel(
    context, review_request, kinds: str, removable: bool, title: str = "Files", listed: bool = True
):
    """The upload form, with the files already sent above it unless ``listed`` is off (the
    status page lists them once, further down)."""
    chosen = KINDS[kinds]
    documents = documents_for_request(review_request=review_request).filter(kind__in=chosen)
    request = context["request"]
    return {
        "request": request,
        "panel": kinds,
        "page_path": request.path,
        "status_url": reverse("records:upload_status", args=[review_request.reference])
        + "?"
        + urlencode({"panel": kinds, "next": request.path}),
        "csrf_token": context.get("csrf_token"),
        "review_request": review_request,
        "listed": listed,
        "documents": documents if listed else [],
        "held": held_files_for_request(review_request=review_request)
        if DocumentKind.IMAGING in chosen
        else [],
        "kinds": [(kind.value, kind.label) for kind in chosen],
        "accepted": ACCEPTED,
        "removable": removable,
        "title": title,
    }


@register.inclusion_tag("records/_files_sent.html")
def files_sent(review_request):
    """The request's files with their thumbnails, as a list to read and download."""
    return {"documents": documents_for_request(review_request=review_request)}


STUDY_LABELS = {
    "Modality": "Modality",
    "BodyPartExamined": "Body part",
    "StudyDate": "Study date",
    "StudyDescription": "Study",
    "Manufacturer": "Manufacturer",
}


@register.simple_tag
def study_details(metadata: dict) -> list[tuple[str, str]]:
    """A study's details as (label, value) for people: "Study date" 2004-01-19, not
    StudyDate 20040119. Empty values are left out."""
    rows = []
    for name, value in (metadata.get("study") or {}).items():
        if not value:
            continue
        if name == "StudyDate" and len(value) == 8 and value.isdigit():
            value = f"{value[:4]}-{value[4:6]}-{value[6:]}"
        rows.append((STUDY_LABELS.get(name, name), value))
    return rows
