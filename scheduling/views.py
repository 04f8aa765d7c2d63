"""Booking a free informational call, without an account, and changing it by the links in
the confirmation e-mail. Nothing about the child is ever in an address: pages are found by
department slug, signed link or the session of the browser that booked."""

import functools
from datetime import date
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from accounts.mail_limits import allowances_count, allowances_left
from accounts.request_info import client_ip
from intake.models.catalogue import localized
from scheduling import calendar, selectors, services
from scheduling.forms import BookingForm, PrecallForm, SlotForm, format_start, parse_start
from scheduling.links import LinkExpired, LinkInvalid, booking_from_token
from scheduling.models import wall_clock

BOOKED_SESSION_KEY = "scheduling.booked"


def _family_zone(request, default: str) -> str:
    """The zone times are shown in: the one the family chose (or its browser reported),
    else ``default`` (the department's, or the one kept with the booking)."""
    name = request.POST.get("tz") or request.GET.get("tz") or ""
    return name if selectors.zone_is_known(name) else default


def _zone_context(zone_name: str, department) -> dict:
    zones = list(selectors.COMMON_ZONES)
    if zone_name not in dict(zones):
        zones.insert(0, (zone_name, selectors.zone_label(zone_name)))
    return {
        "tz": zone_name,
        "tz_label": selectors.zone_label(zone_name),
        "zones": zones,
        "department_tz_label": selectors.zone_label(department.time_zone),
    }


def call_start(request):
    """Pick a department (the front page's "select a department")."""
    departments = selectors.departments_bookable()
    slug = request.GET.get("department")
    if slug:
        if departments.filter(slug=slug).exists():
            return redirect("scheduling:slots", slug=slug)
        messages.error(request, _("Choose a department from the list."))
    return render(request, "scheduling/start.html", {"departments": departments})


def _week_asked(request) -> date | None:
    """The week in the address (any of its days), if it is a date at all."""
    try:
        day = date.fromisoformat(request.GET.get("week", ""))
    except ValueError:
        return None
    return day if 2000 <= day.year <= 2999 else None


def _week_context(week: selectors.Week, zone_name: str) -> dict:
    """The week's days and plain links to the weeks around it, keeping the time zone (the
    department is in the path), so they work without the page's script."""

    def link(monday):
        return f"?{urlencode({'tz': zone_name, 'week': monday.isoformat()})}" if monday else None

    return {
        "week": week,
        "days": week.days,
        "previous_url": link(week.previous),
        "next_url": link(week.next),
    }


def call_slots(request, slug):
    """The open times of a department, one week at a time, in the family's time zone."""
    department = selectors.department_bookable_get(slug=slug)
    zone_name = _family_zone(request, department.time_zone)
    week = selectors.slots_week(
        department=department,
        zone=ZoneInfo(zone_name),
        now=timezone.now(),
        week=_week_asked(request),
    )
    context = {
        "department": department,
        **_week_context(week, zone_name),
        **_zone_context(zone_name, department),
    }
    return render(request, "scheduling/slots.html", context)


def _start_choices(department, zone_name: str, around):
    """Open times on the family's day of ``around`` (or the next day that has any, within a
    week); without a time, the first open day."""
    zone = ZoneInfo(zone_name)
    now = timezone.now()
    if around is None:
        days = selectors.slots_week(department=department, zone=zone, now=now).days
    else:
        days = selectors.slots_on_days(
            department=department, zone=zone, now=now, first_day=around.astimezone(zone).date()
        )
    chosen = days[0][1] if days else []
    return [(format_start(slot.starts_at), wall_clock(slot.starts_at, zone)) for slot in chosen]


def call_book(request, slug):
    """The family's details for the chosen time. A time taken meanwhile is refused with the
    other times of that day to pick from; everything typed stays in the form. Open times are
    computed only to draw the form again, never to book."""
    department = selectors.department_bookable_get(slug=slug)
    zone_name = _family_zone(request, department.time_zone)
    requested = parse_start(request.POST.get("start") or request.GET.get("start") or "")
    if request.method == "GET" and requested is None:
        return redirect(
            f"{reverse('scheduling:slots', args=[slug])}?{urlencode({'tz': zone_name})}"
        )
    initial = {"start": format_start(requested) if requested else None}
    if request.user.is_authenticated and request.user.is_family:
        initial |= {"parent_name": request.user.full_name, "email": request.user.email}
    form = BookingForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid() and _booking_allowed(request, form, department):
        details = {k: v for k, v in form.cleaned_data.items() if k != "start"}
        try:
            booking = services.booking_create(
                department=department,
                starts_at=form.cleaned_data["start"],
                details=details,
                family_time_zone=zone_name,
                family=request.user if request.user.is_authenticated else None,
            )
        except services.BookingRefused as refusal:
            form.add_error("start", str(refusal))
        else:
            allowances_count(_booking_allowances(request, form))
            request.session[BOOKED_SESSION_KEY] = str(booking.public_id)
            return redirect("scheduling:booked")
    choices = _start_choices(department, zone_name, requested)
    form.offer(choices)
    context = {
        "department": department,
        "form": form,
        # A link or a page kept open to a time booked meanwhile: said before anything is typed.
        "time_gone": request.method == "GET"
        and format_start(requested) not in {value for value, _when in choices},
        "other_days_url": _other_days_url(department, zone_name, requested),
        **_zone_context(zone_name, department),
    }
    return render(request, "scheduling/book.html", context)


def _booking_allowances(request, form) -> list[tuple[str, str, int]]:
    """The hour's allowances a booking counts against: the address typed (each booking
    e-mails it) and this connection."""
    return [
        (
            "call-booking-email",
            form.cleaned_data["email"].strip().lower(),
            settings.CALL_BOOKINGS_PER_EMAIL_PER_HOUR,
        ),
        (
            "call-booking-connection",
            client_ip(request),
            settings.CALL_BOOKINGS_PER_CONNECTION_PER_HOUR,
        ),
    ]


def _booking_allowed(request, form, department) -> bool:
    """Within the hour's allowances (only calls booked count, not times refused); otherwise
    the form says so, with the department's phone, and keeps what was typed."""
    allowed = allowances_left(_booking_allowances(request, form))
    if not allowed:
        form.add_error(
            None,
            _(
                "Several calls were booked from here or for this e-mail address in the last "
                "hour. Please try again later, or call the %(name)s team at %(phone)s."
            )
            % {"name": localized(department, "name"), "phone": department.phone},
        )
    return allowed


def _other_days_url(department, zone_name: str, start) -> str:
    """Back to the week of the chosen time."""
    query = {"tz": zone_name}
    if start is not None:
        query["week"] = selectors.monday_of(start.astimezone(ZoneInfo(zone_name)).date())
    return f"{reverse('scheduling:slots', args=[department.slug])}?{urlencode(query)}"


def _booked_here(view):
    """For pages of the call this browser just booked (or moved): its id is kept in the
    session only. Any other browser is sent to the start."""

    @functools.wraps(view)
    def wrapped(request):
        try:
            booking = selectors.booking_get_by_session(
                public_id=request.session.get(BOOKED_SESSION_KEY)
            )
        except Http404:
            return redirect("scheduling:start")
        return view(request, booking)

    return wrapped


@_booked_here
def call_booked(request, booking):
    """The confirmation."""
    return render(request, "scheduling/booked.html", _booking_context(booking))


@_booked_here
def call_booked_invite(request, booking):
    """The calendar invite of the call."""
    return _ics_response(
        calendar.booking_invite(
            booking, attendee_email=booking.email, attendee_name=booking.parent_name
        ),
        "call.ics",
    )


def _booking_context(booking) -> dict:
    return {
        "booking": booking,
        "department": booking.department,
        "family_time": booking.family_time,
        "family_tz_label": selectors.zone_label(booking.family_time_zone),
        "department_time": booking.department_time,
        "department_tz_label": selectors.zone_label(booking.department.time_zone),
    }


def _from_link(request, token: str, purpose: str):
    """The booking of a signed link, or the page explaining why the link does not work."""
    try:
        return booking_from_token(token, purpose), None
    except LinkExpired:
        problem, status = "expired", 410
    except LinkInvalid:
        problem, status = "invalid", 404
    response = render(request, "scheduling/link_problem.html", {"problem": problem}, status=status)
    return None, response


def _refused(request, booking, message: str):
    context = {**_booking_context(booking), "message": message}
    return render(request, "scheduling/refused.html", context, status=409)


def call_reschedule(request, token):
    booking, problem = _from_link(request, token, "reschedule")
    if problem:
        return problem
    department = booking.department
    zone_name = _family_zone(request, booking.family_time_zone)
    form = SlotForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            new = services.booking_reschedule(booking=booking, starts_at=form.cleaned_data["start"])
        except services.SlotTaken as refusal:
            messages.error(request, str(refusal))
        except services.BookingRefused as refusal:
            return _refused(request, booking, str(refusal))
        else:
            request.session[BOOKED_SESSION_KEY] = str(new.public_id)
            messages.success(request, _("Your call was moved. We e-mailed you an updated invite."))
            return redirect("scheduling:booked")
    try:
        services.check_can_move(booking=booking, now=timezone.now())
    except services.BookingRefused as refusal:
        return _refused(request, booking, str(refusal))
    week = selectors.slots_week(
        department=department,
        zone=ZoneInfo(zone_name),
        now=timezone.now(),
        week=_week_asked(request),
        ignore_booking_id=booking.pk,
    )
    context = {
        **_booking_context(booking),
        **_week_context(week, zone_name),
        "token": token,
        "form": form,
        **_zone_context(zone_name, department),
    }
    return render(request, "scheduling/reschedule.html", context)


def call_cancel(request, token):
    booking, problem = _from_link(request, token, "cancel")
    if problem:
        return problem
    if request.method == "POST":
        try:
            services.booking_cancel(booking=booking)
        except services.BookingRefused as refusal:
            return _refused(request, booking, str(refusal))
        return render(request, "scheduling/cancelled.html", _booking_context(booking))
    try:
        services.check_can_change(booking=booking, now=timezone.now())
    except services.BookingRefused as refusal:
        return _refused(request, booking, str(refusal))
    return render(request, "scheduling/cancel.html", _booking_context(booking))


def call_precall(request, token):
    """The short form the team may ask a family to fill in before the call."""
    booking, problem = _from_link(request, token, "precall")
    if problem:
        return problem
    booking = selectors.booking_newest(booking=booking)  # the form follows a moved call
    try:
        services.check_can_change(booking=booking, now=timezone.now())
    except services.BookingRefused as refusal:
        return _refused(request, booking, str(refusal))
    form = PrecallForm(request.POST or None, initial=booking.precall_answers)
    if request.method == "POST" and form.is_valid():
        services.booking_precall_answer(booking=booking, answers=form.cleaned_data)
        messages.success(request, _("Thank you. The team will read this before your call."))
        return redirect(request.path)
    return render(request, "scheduling/precall.html", {**_booking_context(booking), "form": form})


@login_required
def my_calls(request):
    """A signed-in family's calls and appointments."""
    if not request.user.is_family:
        raise Http404
    context = {
        "bookings": selectors.bookings_for_family(user=request.user),
        "appointments": selectors.appointments_page_for_family(user=request.user),
    }
    return render(request, "scheduling/my_calls.html", context)


@login_required
def booking_invite(request, public_id):
    booking = selectors.booking_get_for_family(user=request.user, public_id=public_id)
    cancelled = booking.status == booking.Status.CANCELLED
    return _ics_response(
        calendar.booking_invite(
            booking,
            attendee_email=booking.email,
            attendee_name=booking.parent_name,
            cancelled=cancelled,
        ),
        "call.ics",
    )


@login_required
def appointment_invite(request, public_id):
    appointment = selectors.appointment_get_for_family(user=request.user, public_id=public_id)
    return _ics_response(calendar.appointment_invite(appointment), "appointment.ics")


def _ics_response(content: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=f"{calendar.MIMETYPE}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
