from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from accounts.request_info import client_ip
from intake import services as intake_services
from intake import wizard
from intake.forms import InviteForm, PediatricianForm
from intake.lifecycle import Status
from intake.links import LinkInvalid, invitation_from_token
from intake.models import DocumentKind, Invitation
from intake.selectors import review_request_get_for_family
from records import services
from records.filetypes import Rejected
from records.forms import UploadForm
from records.models import AccessLog, Document, FileType, ProcessingState
from records.selectors import (
    document_get_for_family,
    document_get_for_user,
    documents_for_request,
    documents_from_link,
    held_file_get_for_family,
    pediatrician_details,
    preview_get,
    request_of,
)
from records.templatetags.records import KINDS as PANEL_KINDS

# Shown in the browser; everything else is always a download.
INLINE_TYPES = {FileType.PDF, FileType.JPEG, FileType.PNG}
# Checked and stored, waiting for the worker to read it and draw its preview.
WAITING = {ProcessingState.RECEIVED, ProcessingState.PROCESSING}


@wizard.family_draft
def wizard_referral(request, review_request):
    form = PediatricianForm(
        request.POST or None, initial=pediatrician_details(review_request=review_request)
    )
    # The primary guardian may e-mail the pediatrician an upload link from here. Its address
    # and button belong to the step's form, so what was typed in the step is kept and saved.
    inviting = request.method == "POST" and request.POST.get("go") == "invite"
    invite_form = None
    if review_request.family_id == request.user.pk:
        invite_form = InviteForm(
            request.POST if inviting else None,
            prefix="pediatrician",
            initial={"email": form.initial.get("email", "")},
        )
        invite_form.fields["email"].widget.attrs.update(
            {"form": wizard.STEP_FORM_ID, "data-enter-presses": "send-pediatrician-link"}
        )
    step = {"template": "records/wizard/referral.html", "pediatrician_form": invite_form}
    if inviting and invite_form is not None:
        return _referral_invite(request, review_request, form, invite_form, step)
    return wizard.run_step(
        request,
        review_request,
        "referral",
        form,
        lambda data: intake_services.referring_pediatrician_save(
            review_request=review_request, fields=data
        ),
        **step,
    )


def _referral_invite(request, review_request, form, invite_form, step):
    """The referral step's "E-mail the pediatrician an upload link": the step's details are
    saved, then the link is sent; the step again either way, with any problem beside its
    field."""
    if form.is_valid() and invite_form.is_valid():
        email = invite_form.cleaned_data["email"]
        try:
            intake_services.referring_pediatrician_save(
                review_request=review_request, fields=form.cleaned_data
            )
            intake_services.invitation_send(
                review_request=review_request,
                kind=Invitation.Kind.PEDIATRICIAN,
                email=email,
                actor=request.user,
            )
        except intake_services.RequestLocked:
            return redirect("intake:request_detail", reference=review_request.reference)
        except ValidationError as error:
            invite_form.add_error(None, error)
        else:
            sent = gettext("The link was e-mailed to %(email)s.") % {"email": email}
            messages.success(request, sent)
            return redirect(wizard.step_url(review_request, "referral"))
    return wizard.render_step(request, review_request, "referral", form, status=400, **step)


@wizard.family_draft
def wizard_documents(request, review_request):
    return wizard.run_step(
        request,
        review_request,
        "documents",
        forms.Form(request.POST or None),
        lambda data: None,
        template="records/wizard/documents.html",
    )


def _document_json(document: Document) -> dict:
    removable = document.request.status == Status.DRAFT
    return {
        "id": str(document.pk),
        "name": document.original_name,
        "kind": document.get_kind_display(),
        "size": document.size,
        "url": reverse("records:document_file", args=[document.pk]),
        "remove_url": reverse("records:remove", args=[document.request.reference, document.pk])
        if removable
        else None,
    }


def _upload_json(request, upload: services.Upload, review_request) -> dict:
    reference = upload.document.request.reference
    return {
        "document": _document_json(upload.document),
        "panel": _panel(request, review_request, request.POST),
        "notes": upload.notes,
        "held": [
            {
                "id": str(held.pk),
                "name": held.original_name,
                "add_url": reverse("records:held_add", args=[reference, held.pk]),
                "discard_url": reverse("records:held_discard", args=[reference, held.pk]),
            }
            for held in upload.held
        ],
    }


def _form_error(request, form) -> str:
    # A file past the largest limit is skipped while it arrives: it is simply not there.
    length = request.META.get("CONTENT_LENGTH") or "0"
    if (
        "file" not in request.FILES
        and length.isdigit()
        and int(length) > services.size_limit(DocumentKind.IMAGING)
    ):
        return gettext("This file is larger than any file we accept.")
    return " ".join(message for errors in form.errors.values() for message in errors)


def _receive(request, review_request, *, actor, upload_link=None):
    """Store the posted file for the request: (the accepted upload, None), or (None, what is
    wrong with it, in words for the person who sent it)."""
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return None, _form_error(request, form)
    try:
        document = services.document_upload(
            review_request=review_request,
            kind=form.cleaned_data["kind"],
            upload=form.cleaned_data["file"],
            actor=actor,
            ip_address=client_ip(request),
            upload_link=upload_link,
        )
    except Rejected as rejected:
        return None, str(rejected)
    return document, None


@require_POST
@login_required
def upload(request, reference):
    """One file per request from the page's script (JSON, for a progress bar per file), or
    the plain form without script (redirect back with a message)."""
    review_request = review_request_get_for_family(user=request.user, reference=reference)
    accepted, error = _receive(request, review_request, actor=request.user)
    if request.headers.get("Accept", "").startswith("application/json"):
        if error:
            return JsonResponse({"error": error}, status=400)
        return JsonResponse(_upload_json(request, accepted, review_request), status=201)
    if error:
        messages.error(request, f"{_sent_name(request)}: {error}")
    else:
        _tell_accepted(request, accepted, gettext("was added."))
    return wizard.redirect_back(request, review_request)


def _panel(request, review_request, params) -> dict:
    """What an upload panel shows now, drawn as the page draws it: its list of files, the
    status page's "Files sent", the wizard step's "Still needed here" sentence (empty once
    nothing is missing) and its list of steps (each ✓ or "Missing: N"), and whether a file
    is still waiting for the worker (the page asks again until none is). ``params`` name
    the panel (``panel``: its kinds, and for the wizard its step) and the page it is on
    (``next``)."""
    kinds = params.get("panel", "")
    kinds = kinds if kinds in PANEL_KINDS else "all"
    page = wizard.safe_path(request, params.get("next", "")) or reverse(
        "intake:request_detail", args=[review_request.reference]
    )
    documents = list(documents_for_request(review_request=review_request))
    shown = [document for document in documents if document.kind in PANEL_KINDS[kinds]]
    context = {
        "documents": shown,
        "review_request": review_request,
        "removable": review_request.status == Status.DRAFT,
        "page_path": page,
    }
    still_needed = steps = ""
    if kinds in wizard.SLUGS and review_request.status == Status.DRAFT:
        progress = wizard.progress(review_request, kinds)
        steps = render_to_string(
            "intake/wizard/_steps.html",
            {"steps": progress["steps"], "step_form_id": wizard.STEP_FORM_ID},
            request=request,
        )
        missing = progress["current_step"]["missing"]
        if missing:
            still_needed = gettext("Still needed here: %(items)s.") % {
                "items": "; ".join(str(item) for item in missing)
            }
    return {
        "files": render_to_string("records/_file_list.html", context, request=request),
        "sent": render_to_string(
            "records/_files_sent.html", {"documents": documents}, request=request
        ),
        "still_needed": still_needed,
        "steps": steps,
        "checking": any(document.state in WAITING for document in shown),
    }


@login_required
def upload_status(request, reference):
    """The upload panel as it is now (JSON), for the page's script: after each upload, and
    every few seconds while a file waits for the worker, so the list never says something
    the page contradicts."""
    review_request = review_request_get_for_family(user=request.user, reference=reference)
    return JsonResponse(_panel(request, review_request, request.GET))


def _sent_name(request) -> str:
    """The sent file's name, shortened, for a message (never trusted for anything else)."""
    name = request.FILES["file"].name if "file" in request.FILES else ""
    return (name[:60] + "…" if len(name) > 60 else name) or gettext("The file")


def _tell_accepted(request, accepted: services.Upload, done: str) -> None:
    messages.success(request, f"{accepted.document.original_name} {done}")
    for note in accepted.notes:
        messages.info(request, note)


@require_POST
@login_required
def held_add(request, reference, held_id):
    """Add a report held aside from an imaging CD to the request, as a medical record."""
    held = held_file_get_for_family(user=request.user, reference=reference, held_id=held_id)
    try:
        document = services.held_file_add(
            held=held, actor=request.user, ip_address=client_ip(request)
        )
    except Rejected as rejected:
        messages.error(request, str(rejected))
    else:
        messages.success(
            request,
            gettext("%(name)s was added as a medical record.") % {"name": document.original_name},
        )
    return wizard.redirect_back(request, held.request)


@require_POST
@login_required
def held_discard(request, reference, held_id):
    """Let a held report go: it is not sent."""
    held = held_file_get_for_family(user=request.user, reference=reference, held_id=held_id)
    services.held_file_discard(held=held)
    messages.success(request, gettext("%(name)s was not added.") % {"name": held.original_name})
    return wizard.redirect_back(request, held.request)


@require_POST
@login_required
def remove(request, reference, document_id):
    document = document_get_for_family(
        user=request.user, reference=reference, document_id=document_id
    )
    review_request = document.request
    try:
        services.document_remove(
            document=document, actor=request.user, ip_address=client_ip(request)
        )
    except Rejected as rejected:
        messages.error(request, str(rejected))
    else:
        messages.success(
            request, gettext("%(name)s was removed.") % {"name": document.original_name}
        )
    return wizard.redirect_back(request, review_request)


def _open_logged(request, *, document_id, action):
    """The document ``document_id`` if the person may see it. Every attempt is logged before
    anything is returned: anonymous visitors (then sent to sign in) and refusals too, with the
    request they aimed at. Someone else's document is a 404, like a missing one."""
    log = {
        "user": request.user,
        "document_id": document_id,
        "action": action,
        "ip_address": client_ip(request),
    }
    if not request.user.is_authenticated:
        services.access_log_write(
            review_request_id=request_of(document_id), outcome=AccessLog.Outcome.DENIED, **log
        )
        return None, redirect_to_login(request.get_full_path())
    try:
        document = document_get_for_user(user=request.user, document_id=document_id)
    except Http404:
        services.access_log_write(
            review_request_id=request_of(document_id), outcome=AccessLog.Outcome.DENIED, **log
        )
        raise
    return document, log


def _serve(request, read, *, document, log, **response):
    try:
        content = read()
    except services.CorruptDocument:
        services.access_log_write(
            review_request_id=document.request_id, outcome=AccessLog.Outcome.CORRUPT, **log
        )
        return render(request, "records/corrupt.html", status=500)
    services.access_log_write(
        review_request_id=document.request_id, outcome=AccessLog.Outcome.ALLOWED, **log
    )
    return FileResponse(content, **response)


def document_file(request, document_id):
    """The only way to a document's bytes, served only if they still match the checksum
    taken at upload. PDFs and pictures open in the browser; everything else downloads."""
    download = "download" in request.GET
    action = AccessLog.Action.DOWNLOAD if download else AccessLog.Action.VIEW
    document, log = _open_logged(request, document_id=document_id, action=action)
    if document is None:
        return log  # the way to the sign-in page
    inline = not download and document.file_type in INLINE_TYPES
    return _serve(
        request,
        lambda: services.document_read_verified(document=document),
        document=document,
        log=log,
        as_attachment=not inline,
        filename=document.original_name,
        content_type=document.file_type,
    )


def preview_image(request, preview_id):
    """A preview PNG, by the same rules as the document it was drawn from."""
    preview = preview_get(preview_id=preview_id)
    document, log = _open_logged(
        request,
        document_id=preview.document_id if preview else None,
        action=AccessLog.Action.PREVIEW,
    )
    if document is None:
        return log  # an unknown preview has no document: refused (and logged) above
    return _serve(
        request,
        lambda: services.preview_read_verified(preview=preview),
        document=document,
        log=log,
        content_type="image/png",
        filename="preview.png",
    )


# --- The referring pediatrician's upload link ---------------------------------------------


def pediatrician_upload(request, token):
    """The page the pediatrician's e-mailed link opens: without an account, it uploads files
    to that one request, and shows only the files sent through this link. Every upload is
    marked as the pediatrician's and logged; an expired or withdrawn link is refused (and
    the attempt logged), with what to do instead."""
    try:
        link = invitation_from_token(token, (Invitation.Kind.PEDIATRICIAN,))
    except LinkInvalid:
        return render(request, "intake/invitation_problem.html", {"invalid": True}, status=404)
    review_request = link.request
    try:
        intake_services.invitation_check(invitation=link)
    except intake_services.InvitationClosed as closed:
        if request.method == "POST":
            services.access_log_write(
                user=None,
                review_request_id=review_request.pk,
                document_id=None,
                action=AccessLog.Action.UPLOAD,
                outcome=AccessLog.Outcome.DENIED,
                ip_address=client_ip(request),
                role=services.PEDIATRICIAN_LINK_ROLE,
            )
        context = {"message": str(closed), "invitation": link}
        return render(request, "intake/invitation_problem.html", context, status=410)
    intake_services.invitation_opened(invitation=link)
    if request.method == "POST":
        accepted, error = _receive(request, review_request, actor=None, upload_link=link)
        if error:
            messages.error(request, f"{_sent_name(request)}: {error}")
        else:
            _tell_accepted(request, accepted, gettext("was sent. Thank you."))
        return redirect(request.path)
    context = {
        "link": link,
        "review_request": review_request,
        "kinds": UploadForm().fields["kind"].choices,
        "sent": documents_from_link(upload_link=link),
        "open": review_request.status in services.UPLOADABLE,
    }
    return render(request, "records/pediatrician_upload.html", context)
