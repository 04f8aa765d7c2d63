"""Compute the dashboard's daily payment totals again from the payments: after payments were
loaded or corrected outside the services. Run it while no payment is being taken."""

from django.core.management.base import BaseCommand

from billing.services.totals import payment_days_rebuild


class Command(BaseCommand):
    help = "Compute the daily payment totals (the dashboard's) again from the payments."

    def handle(self, *args, **options):
        days = payment_days_rebuild()
        self.stdout.write(f"{days} day(s) of payment totals written.")
