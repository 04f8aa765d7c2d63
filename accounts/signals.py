import time

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

SESSION_STARTED_AT = "session_started_at"
LAST_SEEN_AT = "last_seen_at"


@receiver(user_logged_in, dispatch_uid="accounts.stamp_session_start")
def stamp_session_start(sender, request, user, **kwargs):
    """The session's age is counted from sign-in, not from its last save."""
    now = int(time.time())
    request.session[SESSION_STARTED_AT] = now
    request.session[LAST_SEEN_AT] = now


@receiver(user_logged_in, dispatch_uid="accounts.keep_chosen_language")
def keep_chosen_language(sender, request, user, **kwargs):
    """A family that chose a language with the switch before signing in keeps it: the choice
    is saved on its account (which then decides on every device)."""
    from accounts.services import user_language_set

    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) if request else None
    if chosen and user.is_family:
        user_language_set(user=user, language=chosen)
