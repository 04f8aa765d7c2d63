"""Every URL pattern of the portal and its admin, and how a probe reaches it.

``PROBES`` names each pattern (by its ``namespace:name``, or its route when it has no name)
with what kind of page it is, the methods it answers, who normally uses it, and how to build
its address for the family's own objects of ``World`` (``tests/security/conftest.py``). The
admin's standard pages of every registered model are added from the admin's registry; its
own extra pages, and every page of the portal, are listed by hand: a new pattern without an
entry here fails ``test_every_url_pattern_has_a_probe``.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver, reverse

# What a page is, which decides what each outsider must get.
PUBLIC = "public"  # anyone, no object
SIGNED_IN = "signed in"  # one's own lists and steps, no object in the address
FAMILY = "family"  # an object of the family (its request, file, call): others get a 404
PANEL = "panel"  # a case of the reviewer workspace: only reviewers on the panel now
IMAGING = "imaging"  # a study opened in the viewer: the panel now, and the coordinators
TOKEN = "token"  # an e-mailed, signed link
BOOKED_HERE = "booked here"  # the call booked in this browser (its session)
ADMIN = "admin"  # the coordinators' workspace

GET_POST = ("GET", "POST")
POST = ("POST",)
GET = ("GET",)


@dataclass(frozen=True)
class Probe:
    kind: str
    build: Callable  # World -> the page's address for the family's own objects
    methods: tuple[str, ...] = GET_POST
    reach: str = "anonymous"  # the persona who uses the page (for the malformed-input walk)


def _url(name: str, *args: Callable) -> Callable:
    return lambda world: reverse(name, args=[arg(world) for arg in args])


def ref(world):
    return world.request.reference


def draft_ref(world):
    return world.draft.reference


def slug(world):
    return world.draft.service.slug


def dept(world):
    return world.booking.department.slug


def imaging(world):
    return world.imaging.pk


def _series_image(world):
    """The first image of the imaging's first series, by the key its panel's lead was given."""
    from django.core import signing

    from records.frame_views import KEY_SALT

    lead = world.request.assignments.filter(removed_at__isnull=True).get().reviewer_id
    key = signing.dumps([str(world.imaging.pk), 1, lead], salt=KEY_SALT, compress=True)
    return reverse("records:series_image", args=[key, 1])


def _token(purpose):
    def build(world):
        from scheduling.links import booking_token

        return booking_token(world.booking, purpose)

    return build


def _invitation(attr):
    def build(world):
        from intake.links import invitation_token

        return invitation_token(getattr(world, attr))

    return build


def _book(world):
    from datetime import timedelta

    from scheduling.forms import format_start

    start = format_start(world.booking.starts_at + timedelta(hours=2))
    return f"{reverse('scheduling:book', args=[dept(world)])}?start={start}"


def _reset_confirm(world):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    user = world.request.family
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse(
        "accounts:password_reset_confirm", args=[uid, default_token_generator.make_token(user)]
    )


def _verify(world):
    from accounts.tokens import email_verification_token

    return reverse("accounts:verify_email", args=[email_verification_token(world.request.family)])


def _page(kind, name, *args, methods=GET_POST, reach="anonymous") -> Probe:
    return Probe(kind, _url(name, *args), methods, reach)


def _family(name, *args, methods=GET_POST) -> Probe:
    return _page(FAMILY, name, *args, methods=methods, reach="family")


def _panel(name, *args, methods=GET_POST) -> Probe:
    return _page(PANEL, name, *args, methods=methods, reach="assigned_reviewer")


PORTAL = {
    # The front door and accounts.
    "intake:catalogue": _page(PUBLIC, "intake:catalogue", methods=GET),
    "healthz": _page(PUBLIC, "healthz", methods=GET),
    "accounts:home": _page(SIGNED_IN, "accounts:home", methods=GET, reach="family"),
    "accounts:login": _page(PUBLIC, "accounts:login"),
    "accounts:logout": _page(SIGNED_IN, "accounts:logout", methods=POST, reach="family"),
    "accounts:sign_up": _page(PUBLIC, "accounts:sign_up"),
    "accounts:check_email": _page(PUBLIC, "accounts:check_email", methods=GET),
    "accounts:verify_email": Probe(TOKEN, _verify, GET),
    "accounts:resend_verification": _page(PUBLIC, "accounts:resend_verification"),
    "accounts:password_reset": _page(PUBLIC, "accounts:password_reset"),
    "accounts:password_reset_done": _page(PUBLIC, "accounts:password_reset_done", methods=GET),
    "accounts:password_reset_confirm": Probe(TOKEN, _reset_confirm),
    "accounts:password_reset_complete": _page(
        PUBLIC, "accounts:password_reset_complete", methods=GET
    ),
    "accounts:language": _page(PUBLIC, "accounts:language", methods=POST),
    "accounts:otp_setup": _page(SIGNED_IN, "accounts:otp_setup", reach="new_staff"),
    "accounts:otp_verify": _page(SIGNED_IN, "accounts:otp_verify", reach="unverified_staff"),
    # The family's requests.
    "intake:service_detail": _page(PUBLIC, "intake:service_detail", slug),
    "intake:start": _page(SIGNED_IN, "intake:start", slug, methods=POST, reach="family"),
    "intake:my_requests": _page(SIGNED_IN, "intake:my_requests", methods=GET, reach="family"),
    "intake:request_detail": _family("intake:request_detail", ref, methods=GET),
    "intake:request_answer": _family("intake:request_answer", ref, methods=POST),
    "intake:wizard_guardian": _family("intake:wizard_guardian", draft_ref),
    "intake:wizard_child": _family("intake:wizard_child", draft_ref),
    "intake:wizard_questionnaire": _family("intake:wizard_questionnaire", draft_ref),
    "intake:wizard_consent": _family("intake:wizard_consent", draft_ref),
    "intake:wizard_review": _family("intake:wizard_review", draft_ref),
    "intake:request_invite": _family(
        "intake:request_invite", ref, lambda w: "guardian", methods=POST
    ),
    "intake:request_link_revoke": _family(
        "intake:request_link_revoke", ref, lambda w: w.guardian_link.pk, methods=POST
    ),
    "intake:request_access_remove": _family(
        "intake:request_access_remove", ref, lambda w: w.access.pk, methods=POST
    ),
    "intake:invitation": _page(TOKEN, "intake:invitation", _invitation("guardian_link")),
    # Files.
    "records:wizard_referral": _family("records:wizard_referral", draft_ref),
    "records:wizard_documents": _family("records:wizard_documents", draft_ref),
    "records:upload": _family("records:upload", draft_ref, methods=POST),
    "records:remove": _family("records:remove", ref, lambda w: w.document.pk, methods=POST),
    "records:document_file": _family("records:document_file", lambda w: w.document.pk, methods=GET),
    "records:preview": _family("records:preview", lambda w: w.preview.pk, methods=GET),
    "records:held_add": _family("records:held_add", draft_ref, lambda w: w.held.pk, methods=POST),
    "records:held_discard": _family(
        "records:held_discard", draft_ref, lambda w: w.held.pk, methods=POST
    ),
    "records:pediatrician_upload": _page(
        TOKEN, "records:pediatrician_upload", _invitation("pediatrician_link")
    ),
    # Payments.
    "billing:pay": _family("billing:pay", ref, methods=POST),
    "billing:paid": _family("billing:paid", ref, methods=GET),
    "billing:receipt": _family("billing:receipt", ref, methods=GET),
    "billing:stripe_webhook": _page(PUBLIC, "billing:stripe_webhook", methods=POST),
    # Informational calls.
    "scheduling:start": _page(PUBLIC, "scheduling:start", methods=GET),
    "scheduling:slots": _page(PUBLIC, "scheduling:slots", dept, methods=GET),
    "scheduling:book": Probe(PUBLIC, _book),
    "scheduling:booked": _page(BOOKED_HERE, "scheduling:booked", methods=GET),
    "scheduling:booked_invite": _page(BOOKED_HERE, "scheduling:booked_invite", methods=GET),
    "scheduling:my_calls": _page(SIGNED_IN, "scheduling:my_calls", methods=GET, reach="family"),
    "scheduling:booking_invite": _family(
        "scheduling:booking_invite", lambda w: w.booking.public_id, methods=GET
    ),
    "scheduling:appointment_invite": _family(
        "scheduling:appointment_invite", lambda w: w.appointment.public_id, methods=GET
    ),
    "scheduling:reschedule": _page(TOKEN, "scheduling:reschedule", _token("reschedule")),
    "scheduling:cancel": _page(TOKEN, "scheduling:cancel", _token("cancel")),
    "scheduling:precall": _page(TOKEN, "scheduling:precall", _token("precall")),
    # The reviewer workspace, and the family's follow-up question.
    "reviews:my_reviews": _page(
        SIGNED_IN, "reviews:my_reviews", methods=GET, reach="assigned_reviewer"
    ),
    "reviews:case": _panel("reviews:case", ref, methods=GET),
    "reviews:opinion": _panel("reviews:opinion", ref),
    "reviews:autosave": _panel("reviews:autosave", ref, methods=POST),
    "reviews:amend": _panel("reviews:amend", ref, methods=POST),
    "reviews:decline": _panel("reviews:decline", ref),
    "reviews:final": _panel("reviews:final", ref),
    "reviews:follow_up_answer": _panel("reviews:follow_up_answer", ref, lambda w: 1, methods=POST),
    "reviews:follow_up_ask": _family("reviews:follow_up_ask", ref, methods=POST),
    # The imaging viewer: the page, a series opened (JSON), one of its images by the key the
    # opener was given, the panel's measurements and key images.
    "reviews:viewer": _panel("reviews:viewer", ref, imaging, methods=GET),
    "records:series_open": _page(
        IMAGING, "records:series_open", imaging, lambda w: 1, methods=GET, reach="assigned_reviewer"
    ),
    "records:series_image": Probe(PANEL, _series_image, GET, "assigned_reviewer"),
    "reviews:measurements": _panel("reviews:measurements", ref, imaging),
    "reviews:measurement_delete": _panel(
        "reviews:measurement_delete", ref, imaging, lambda w: w.measurement.pk, methods=POST
    ),
    "reviews:key_images": _panel("reviews:key_images", ref, imaging, methods=POST),
}


def _admin(name: str, *args: Callable, methods=GET_POST) -> Probe:
    return Probe(ADMIN, _url(name, *args), methods, "admin_user")


def _request_pk(world):
    return world.request.pk


def _payment_pk(world):
    return world.request.payments.get().pk


ADMIN_EXTRA = {
    "admin:index": _admin("admin:index", methods=GET),
    "admin:login": _admin("admin:login"),
    "admin:logout": _admin("admin:logout", methods=POST),
    "admin:password_change": _admin("admin:password_change"),
    "admin:password_change_done": _admin("admin:password_change_done", methods=GET),
    "admin:autocomplete": Probe(
        ADMIN,
        lambda world: (
            reverse("admin:autocomplete")
            + "?app_label=intake&model_name=department&field_name=program_lead&term=a"
        ),
        GET,
        "admin_user",
    ),
    "admin:jsi18n": _admin("admin:jsi18n", methods=GET),
    "admin:view_on_site": Probe(
        ADMIN,
        lambda world: reverse(
            "admin:view_on_site",
            args=[ContentType.objects.get_for_model(world.request).pk, world.request.pk],
        ),
        GET,
        "admin_user",
    ),
    "admin:app_list": _admin("admin:app_list", lambda w: "intake", methods=GET),
    "admin/(?P<url>.*)$": Probe(ADMIN, lambda world: "/admin/nothing-here/", GET, "admin_user"),
    "admin:intake_reviewrequest_start": _admin("admin:intake_reviewrequest_start"),
    "admin:intake_reviewrequest_funnel": _admin("admin:intake_reviewrequest_funnel", methods=GET),
    "admin:intake_reviewrequest_move": _admin("admin:intake_reviewrequest_move", _request_pk),
    "admin:intake_reviewrequest_invite": _admin(
        "admin:intake_reviewrequest_invite", _request_pk, lambda w: "pediatrician"
    ),
    "admin:intake_reviewrequest_revoke": _admin(
        "admin:intake_reviewrequest_revoke", _request_pk, lambda w: w.guardian_link.pk
    ),
    "admin:intake_reviewrequest_remove_access": _admin(
        "admin:intake_reviewrequest_remove_access", _request_pk, lambda w: w.access.pk
    ),
    "admin:billing_payment_refund": _admin("admin:billing_payment_refund", _payment_pk),
    "admin:scheduling_booking_overview": _admin("admin:scheduling_booking_overview", methods=GET),
    "admin:scheduling_booking_outcome": _admin(
        "admin:scheduling_booking_outcome", lambda w: w.booking.pk
    ),
    "admin:scheduling_booking_step": _admin(
        "admin:scheduling_booking_step", lambda w: w.booking.pk, lambda w: "precall"
    ),
    "admin:scheduling_appointment_move": _admin(
        "admin:scheduling_appointment_move", lambda w: w.appointment.pk
    ),
    "admin:scheduling_appointment_cancel": _admin(
        "admin:scheduling_appointment_cancel", lambda w: w.appointment.pk
    ),
    "admin:reviews_panel": _admin("admin:reviews_panel", _request_pk),
    "admin:reviews_deliver": _admin("admin:reviews_deliver", _request_pk),
}


def _any_object_pk(model) -> Callable:
    """The first row of ``model`` in the world, or an id nothing has."""

    def build(world):
        row = model._default_manager.order_by("pk").first()
        return row.pk if row is not None else 0

    return build


def admin_model_probes() -> dict[str, Probe]:
    """The standard pages of every model registered in the admin."""
    probes = {}
    for model in admin.site._registry:
        label = f"{model._meta.app_label}_{model._meta.model_name}"
        pk = _any_object_pk(model)
        probes[f"admin:{label}_changelist"] = _admin(f"admin:{label}_changelist")
        probes[f"admin:{label}_add"] = _admin(f"admin:{label}_add")
        for page in ("change", "history", "delete"):
            probes[f"admin:{label}_{page}"] = _admin(f"admin:{label}_{page}", pk)
        # The old address of the change page, which redirects to it.
        route = f"admin/{model._meta.app_label}/{model._meta.model_name}/<path:object_id>/"
        probes[route] = Probe(
            ADMIN,
            lambda world, pk=pk, route=route: (
                "/" + route.replace("<path:object_id>", str(pk(world)))
            ),
            GET,
            "admin_user",
        )
    return probes


def all_probes() -> dict[str, Probe]:
    return {**PORTAL, **ADMIN_EXTRA, **admin_model_probes()}


def url_patterns(resolver: URLResolver | None = None, prefix: str = "", namespace: str = ""):
    """(key, route) of every pattern: ``namespace:name``, or the route when it has no name."""
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, [namespace, pattern.namespace or ""]))
            yield from url_patterns(pattern, route, inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield (name if pattern.name else route), route
