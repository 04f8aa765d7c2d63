import time

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
