"""What intake does when something happens in an app below it, without that app importing
intake."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver


@receiver(user_logged_in, dispatch_uid="intake.start_checked_request")
def start_checked_request(sender, request, user, **kwargs):
    """Signing in from an eligibility result starts the request (see
    ``intake.views.start_on_sign_in``)."""
    from intake.views import start_on_sign_in

    if request is not None and request.method == "POST" and user.is_family:
        start_on_sign_in(request, user)
