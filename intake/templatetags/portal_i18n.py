"""Catalogue data in the page's language: ``{{ service|localized:"name" }}`` reads
``name_es`` on a Spanish page when the hospital wrote it, else the English text."""

from django import template

from intake.models.catalogue import localized as _localized

register = template.Library()


@register.filter
def localized(obj, field: str):
    return _localized(obj, field) if obj is not None else ""
