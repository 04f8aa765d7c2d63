"""What other apps may react to without intake importing them."""

from django.dispatch import Signal

# Sent inside the transaction of every status change: review_request, from_status, to_status.
request_moved = Signal()
