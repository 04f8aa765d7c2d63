"""How often the portal e-mails one address, or takes a booking from one connection. Sign-up
notes, confirmation links, password resets, booking confirmations and the links a family
sends go to whatever address someone types, so without a limit the forms could be used to
flood a stranger's inbox (or fill a department's calls). Counts are kept for an hour in the
cache, under hashed keys: no address sits in the cache in clear."""

from django.conf import settings
from django.core.cache import cache
from django.utils.crypto import salted_hmac

WINDOW_SECONDS = 3600


def _key(scope: str, subject: str) -> str:
    return f"{scope}:" + salted_hmac("accounts.mail-limit", f"{scope}:{subject}").hexdigest()[:32]


def hourly_count(scope: str, subject: str) -> int:
    """Count one more ``scope`` (an e-mail, a booking) for ``subject`` (an address, a
    connection, a sender); returns how many were counted this hour."""
    key = _key(scope, subject)
    cache.add(key, 0, WINDOW_SECONDS)
    try:
        return cache.incr(key)
    except ValueError:  # the window ended between add and incr
        cache.set(key, 1, WINDOW_SECONDS)
        return 1


def hourly_allowance_left(scope: str, subject: str, allowed: int) -> bool:
    """Whether fewer than ``allowed`` were counted this hour (nothing is counted)."""
    return cache.get(_key(scope, subject), 0) < allowed


def allowances_left(allowances: list[tuple[str, str, int]]) -> bool:
    """Whether each ``(scope, subject, allowed)`` has some left this hour (nothing counted):
    checked before something is done, counted with ``allowances_count`` once it is."""
    return all(hourly_allowance_left(*allowance) for allowance in allowances)


def allowances_count(allowances: list[tuple[str, str, int]]) -> None:
    for scope, subject, _allowed in allowances:
        hourly_count(scope, subject)


def account_mail_allowed(email: str) -> bool:
    """Count one account e-mail to ``email``; False once the hourly allowance is used up."""
    return hourly_count("account-mail", email) <= settings.ACCOUNT_EMAILS_PER_HOUR
