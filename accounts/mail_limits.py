"""How often the portal e-mails one address, or takes a booking from one connection. Sign-up
notes, confirmation links, password resets, booking confirmations and the links a family
sends go to whatever address someone types, so without a limit the forms could be used to
flood a stranger's inbox (or fill a department's calls). Counts are kept for an hour in the
cache, under hashed keys: no address sits in the cache in clear."""

from django.conf import settings
from django.core.cache import cache
from django.utils.crypto import salted_hmac

WINDOW_SECONDS = 3600


def within_hourly_allowance(scope: str, subject: str, allowed: int) -> bool:
    """Count one more ``scope`` (an e-mail, a booking) for ``subject`` (an address, a
    connection, a request); False once more than ``allowed`` were counted this hour."""
    digest = salted_hmac("accounts.mail-limit", f"{scope}:{subject}").hexdigest()[:32]
    key = f"{scope}:{digest}"
    cache.add(key, 0, WINDOW_SECONDS)
    try:
        counted = cache.incr(key)
    except ValueError:  # the window ended between add and incr
        cache.set(key, 1, WINDOW_SECONDS)
        counted = 1
    return counted <= allowed


def account_mail_allowed(email: str) -> bool:
    """Count one account e-mail to ``email``; False once the hourly allowance is used up."""
    return within_hourly_allowance("account-mail", email, settings.ACCOUNT_EMAILS_PER_HOUR)
