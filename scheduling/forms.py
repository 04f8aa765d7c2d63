from datetime import UTC, datetime

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from intake.forms import PhoneField
from intake.models import ReviewService
from scheduling.models import (
    OUTCOMES,
    Appointment,
    AppointmentKind,
    AppointmentLocation,
    BookingStatus,
    NextStep,
)


def parse_start(value: str) -> datetime | None:
    """A slot's start as written in pages and links: ISO 8601 with a UTC offset."""
    try:
        start = datetime.fromisoformat(value).astimezone(UTC)
    except (TypeError, ValueError, OverflowError):
        return None
    # Naive times are refused (astimezone would read them in the server's zone), and so are
    # years no calendar needs, which would overflow in later arithmetic.
    if datetime.fromisoformat(value).tzinfo is None or not 2000 <= start.year <= 2999:
        return None
    return start


def format_start(start: datetime) -> str:
    return start.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


class StartField(forms.ChoiceField):
    """The call time, picked from the open times listed. A time that is no longer listed is
    still accepted here: the booking service says why it cannot be booked (taken, too soon)."""

    widget = forms.RadioSelect

    def valid_value(self, value):
        return parse_start(value) is not None

    def to_python(self, value):
        return parse_start(super().to_python(value))

    def validate(self, value):
        if value is None:
            raise forms.ValidationError(_("Pick a time from the list."), code="required")


class BookingForm(forms.Form):
    start = StartField(
        label=_("Time of the call"),
        error_messages={"invalid_choice": _("Pick a time from the list.")},
    )
    parent_name = forms.CharField(
        label=_("Your name"),
        max_length=120,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    phone = PhoneField(
        label=_("Phone number we should call"),
        required=True,
        help_text=_("A US number such as 404-555-0123, or an international one starting with +."),
    )
    email = forms.EmailField(
        label=_("E-mail"),
        help_text=_("We send the confirmation and calendar invite here."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    child_first_name = forms.CharField(label=_("Your child's first name"), max_length=60)
    child_age = forms.IntegerField(
        label=_("Your child's age in years"),
        min_value=0,
        max_value=25,
        error_messages={
            "min_value": _("Enter your child's age in whole years (0 for a baby)."),
            "max_value": _("We see children and young adults up to 25."),
        },
    )
    diagnosis = forms.CharField(
        label=_("Diagnosis, if you know it (optional)"), max_length=200, required=False
    )
    current_hospital = forms.CharField(
        label=_("Hospital or doctor caring for your child now (optional)"),
        max_length=200,
        required=False,
    )
    reason = forms.CharField(
        label=_("What would you like to talk about? (optional)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    consent_to_contact = forms.BooleanField(
        label=_("You may contact me by phone and e-mail about this call."),
        error_messages={"required": _("We need your permission to call you; tick the box.")},
    )

    def offer(self, start_choices) -> None:
        """The times listed to pick from (any open time is accepted whether listed or not)."""
        self.fields["start"].choices = start_choices


class SlotForm(forms.Form):
    """Moving a call: only the new time."""

    start = StartField()


class PrecallForm(forms.Form):
    """The short form a coordinator may send before the call."""

    QUESTIONS = {
        "hopes": _("What would you most like to learn from the call?"),
        "diagnosis": _("What diagnosis has your child been given, and when?"),
        "treatment": _("What treatment has your child had or been offered?"),
        "tests": _("Which tests or imaging has your child had (for example X-ray, MRI)?"),
    }

    hopes = forms.CharField(
        label=QUESTIONS["hopes"], max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    diagnosis = forms.CharField(
        label=QUESTIONS["diagnosis"],
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    treatment = forms.CharField(
        label=QUESTIONS["treatment"],
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    tests = forms.CharField(
        label=QUESTIONS["tests"],
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class OutcomeForm(forms.Form):
    """What the coordinator records after the call (admin)."""

    outcome = forms.ChoiceField(
        choices=[(status.value, status.label) for status in BookingStatus if status in OUTCOMES],
        widget=forms.RadioSelect,
    )
    call_notes = forms.CharField(
        label="Call notes (health history summary)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    programs_recommended = forms.CharField(
        label="Programs and providers recommended",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    next_step = forms.ChoiceField(choices=[("", "—"), *NextStep.choices], required=False)
    recommended_service = forms.ModelChoiceField(
        queryset=ReviewService.objects.filter(active=True),
        required=False,
        help_text="For a document review: which one.",
    )


class AppointmentMoveForm(forms.Form):
    """A new time for an appointment (admin), and its place: the location of an in-person
    visit, the video link of a virtual one. Starts with what the appointment has now."""

    starts_at = forms.SplitDateTimeField(
        label="New time",
        widget=forms.SplitDateTimeWidget(
            date_attrs={"type": "date"},
            time_attrs={"type": "time"},
            date_format="%Y-%m-%d",
            time_format="%H:%M",
        ),
        help_text=f"In the hospital's time zone, {settings.TIME_ZONE}.",
    )
    location = forms.ModelChoiceField(queryset=AppointmentLocation.objects.order_by("name"))
    video_link = forms.URLField(max_length=200, assume_scheme="https")

    def __init__(self, *args, appointment: Appointment, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "starts_at": appointment.starts_at,
                "location": appointment.location_id,
                "video_link": appointment.video_link,
            },
        )
        super().__init__(*args, **kwargs)
        unused = "video_link" if appointment.kind == AppointmentKind.IN_PERSON else "location"
        del self.fields[unused]


class AppointmentCancelForm(forms.Form):
    reason = forms.CharField(
        label="Why is the visit cancelled?",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept with the appointment for the team. The family's e-mail does not say it.",
    )
