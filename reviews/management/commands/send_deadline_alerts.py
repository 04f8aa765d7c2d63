"""Run the deadline sweep now, or as if it were another time (``--at``), and send what it
queued at once: the demo's way to see each alert appear at its simulated time."""

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from notifications.services import messages_send_due
from reviews.deadlines import deadline_alerts_send_due


class Command(BaseCommand):
    help = "Send the review deadline alerts that are due (optionally as of --at)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--at",
            help="Sweep as if it were this time, e.g. 2026-12-01T10:00 (the site's time zone).",
        )

    def handle(self, *args, at=None, **options):
        now = timezone.now()
        if at:
            try:
                moment = datetime.fromisoformat(at)
            except ValueError:
                raise CommandError(f"--at {at!r} is not a time such as 2026-12-01T10:00.") from None
            now = moment if timezone.is_aware(moment) else timezone.make_aware(moment)
        recorded = deadline_alerts_send_due(now=now)
        sent = messages_send_due()
        self.stdout.write(
            f"{recorded} alert(s) recorded as of {timezone.localtime(now):%Y-%m-%d %H:%M %Z}; "
            f"{sent} message(s) sent."
        )
