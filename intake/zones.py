"""Time zones named as people say them ("Eastern Time"), in the page's or the e-mail's
language. Pages and e-mails use the same names, so a time read in an e-mail matches the one
the family picked on the page."""

from django.utils.translation import gettext_lazy as _

# Offered in the time-zone menu; a family's detected zone is added when it is not here.
COMMON_ZONES = (
    ("America/New_York", _("Eastern Time")),
    ("America/Chicago", _("Central Time")),
    ("America/Denver", _("Mountain Time")),
    ("America/Phoenix", _("Arizona")),
    ("America/Los_Angeles", _("Pacific Time")),
    ("America/Anchorage", _("Alaska")),
    ("Pacific/Honolulu", _("Hawaii")),
    ("America/Puerto_Rico", _("Atlantic Time (Puerto Rico)")),
    ("Europe/London", _("London")),
    ("Europe/Paris", _("Central European Time")),
    ("Asia/Dubai", _("Gulf Time")),
    ("Asia/Kolkata", _("India")),
    ("UTC", "UTC"),
)


def zone_label(name: str) -> str:
    """ "Eastern Time" for America/New_York; a zone not in the list by its own name, its
    underscores as spaces ("America/Argentina/Buenos Aires")."""
    return str(dict(COMMON_ZONES).get(name, name.replace("_", " ")))
