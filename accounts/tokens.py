"""Signed links for confirming an e-mail address. The token holds the account's id and a
hash of the address, never the address itself, so nothing personal travels in the URL."""

from django.conf import settings
from django.core import signing
from django.utils.crypto import salted_hmac

from accounts.models import User

_SALT = "accounts.email-verification"


def _address_hash(user: User) -> str:
    return salted_hmac(_SALT, user.email).hexdigest()[:16]


def email_verification_token(user: User) -> str:
    return signing.dumps([user.pk, _address_hash(user)], salt=_SALT, compress=True)


class InvalidToken(Exception):
    pass


class ExpiredToken(InvalidToken):
    pass


def email_verification_user(token: str) -> User:
    """The account a token confirms; raises ``ExpiredToken`` or ``InvalidToken``."""
    try:
        user_id, address_hash = signing.loads(
            token, salt=_SALT, max_age=settings.EMAIL_VERIFICATION_TIMEOUT
        )
    except signing.SignatureExpired:
        raise ExpiredToken from None
    except (signing.BadSignature, ValueError, TypeError):
        raise InvalidToken from None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or address_hash != _address_hash(user):
        raise InvalidToken
    return user
