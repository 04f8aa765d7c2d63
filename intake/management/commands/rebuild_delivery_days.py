"""Compute the dashboard's daily delivery figures again from the delivered requests: after
requests were loaded or corrected outside the lifecycle service."""

from django.core.management.base import BaseCommand

from intake.services.deliveries import delivery_days_rebuild


class Command(BaseCommand):
    help = "Compute the daily delivery figures (the dashboard's on-time shares) again."

    def handle(self, *args, **options):
        days = delivery_days_rebuild()
        self.stdout.write(f"{days} day(s) of delivery figures written.")
