"""The links of invitations: the invitation's random key, signed with the kind as purpose (a
second guardian's link cannot be passed off as the pediatrician's). The signature catches a
tampered or cut-short link; whether a genuine link still works (expired, used, revoked) is
the invitation row's to say. The link carries nothing about the child or the family."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from intake.models import Invitation

# Where each kind of link leads: the family and a second guardian accept an invitation; the
# pediatrician's link opens the upload page (a records page, named here by URL only).
PAGES = {
    Invitation.Kind.FAMILY: "intake:invitation",
    Invitation.Kind.GUARDIAN: "intake:invitation",
    Invitation.Kind.PEDIATRICIAN: "records:pediatrician_upload",
}


class LinkInvalid(Exception):
    """Not a link we made for this page (tampered with, cut short, or for another page)."""


def _signer(kind: str) -> signing.Signer:
    return signing.Signer(salt=f"intake.invitation.{kind}")


def invitation_token(invitation: Invitation) -> str:
    """The same token every time for one invitation, so a reminder repeats the link."""
    return _signer(invitation.kind).sign(invitation.key.hex)


def invitation_url(invitation: Invitation) -> str:
    """The absolute address for an e-mail."""
    path = reverse(PAGES[invitation.kind], args=[invitation_token(invitation)])
    return f"{settings.SITE_URL}{path}"


def invitation_from_token(token: str, kinds: tuple[str, ...]) -> Invitation:
    """The invitation a link of one of ``kinds`` was made for, whatever its state."""
    for kind in kinds:
        try:
            key = _signer(kind).unsign(token)
        except signing.BadSignature:
            continue
        invitation = (
            Invitation.objects.select_related("request__service__department")
            .filter(key=key, kind=kind)
            .first()
        )
        if invitation is not None:
            return invitation
    raise LinkInvalid
