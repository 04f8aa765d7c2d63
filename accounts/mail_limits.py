"""How often the portal e-mails one address about its account. Sign-up notes, confirmation
links and password resets go to whatever address someone types, so without a limit the
forms could be used to flood a stranger's inbox. The page looks the same either way."""

from django.conf import settings
from django.core.cache import cache
from django.utils.crypto import salted_hmac

WINDOW_SECONDS = 3600


def account_mail_allowed(email: str) -> bool:
    """Count one account e-mail to ``email``; False once the hourly allowance is used up.
    The cache key is a hash: addresses never sit in the cache in clear."""
    key = "account-mail:" + salted_hmac("accounts.mail-limit", email).hexdigest()[:32]
    cache.add(key, 0, WINDOW_SECONDS)
    try:
        sent = cache.incr(key)
    except ValueError:  # the window ended between add and incr
        cache.set(key, 1, WINDOW_SECONDS)
        sent = 1
    return sent <= settings.ACCOUNT_EMAILS_PER_HOUR
