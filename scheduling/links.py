"""Signed links in call e-mails: one purpose each (a cancel link cannot reschedule), and
expiring. They carry the booking's random id only, never anything about the child."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from scheduling.models import Booking

PURPOSES = ("reschedule", "cancel", "precall")


class LinkInvalid(Exception):
    """Not a link we made for this purpose (tampered, cut short or for another page)."""


class LinkExpired(LinkInvalid):
    """A link we made, but older than ``SCHEDULING_LINK_DAYS``."""


def _salt(purpose: str) -> str:
    if purpose not in PURPOSES:
        raise ValueError(purpose)
    return f"scheduling.booking.{purpose}"


def booking_token(booking: Booking, purpose: str) -> str:
    return signing.dumps(str(booking.public_id), salt=_salt(purpose))


def booking_url(booking: Booking, purpose: str) -> str:
    """The absolute address for an e-mail."""
    path = reverse(f"scheduling:{purpose}", args=[booking_token(booking, purpose)])
    return f"{settings.SITE_URL}{path}"


def booking_from_token(token: str, purpose: str) -> Booking:
    try:
        public_id = signing.loads(
            token, salt=_salt(purpose), max_age=settings.SCHEDULING_LINK_DAYS * 86400
        )
    except signing.SignatureExpired as error:
        raise LinkExpired from error
    except signing.BadSignature as error:
        raise LinkInvalid from error
    booking = Booking.objects.select_related("department").filter(public_id=public_id).first()
    if booking is None:
        raise LinkInvalid
    return booking
