"""Catalogue data in the page's language: ``{{ service|localized:"name" }}`` reads
``name_es`` on a Spanish page when the hospital wrote it, else the English text."""

from django import template

from intake.forms import phone_display as _phone_display
from intake.models.catalogue import localized as _localized
from intake.zones import zone_label as _zone_label

register = template.Library()


@register.filter
def localized(obj, field: str):
    return _localized(obj, field) if obj is not None else ""


@register.filter
def zone_label(name) -> str:
    """A time zone as the pages name it: ``{{ "America/New_York"|zone_label }}`` is
    "Eastern Time" (in the page's or the e-mail's language)."""
    return _zone_label(str(name)) if name else ""


@register.filter
def phone(value) -> str:
    """``{{ guardian.phone|phone }}``: a saved number as families write it."""
    return _phone_display(str(value)) if value else ""
