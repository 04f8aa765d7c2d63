from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from demo import data
from demo.services import demo_load, totp_code, totp_secret


class Command(BaseCommand):
    help = "Load the demo catalogue, accounts and requests (idempotent) and print the sign-ins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--codes",
            action="store_true",
            help="Print the current TOTP code of each demo staff account.",
        )

    def handle(self, *args, codes=False, **options):
        try:
            users = demo_load()
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from None
        staff = [user for user in users if user.is_staff_member]
        if codes:
            for user in staff:
                self.stdout.write(f"{totp_code(user)}  {user.email}")
            return
        self.stdout.write(self.style.SUCCESS("Demo data is loaded."))
        self.stdout.write(
            f"\nOpen {settings.SITE_URL}/ and sign in (password for all: {data.PASSWORD}):"
        )
        for user in users:
            self.stdout.write(f"  {user.get_role_display():<14} {user.email:<26} {user.full_name}")
        self.stdout.write(
            "\nStaff also enter a 6-digit code. Add a key below to any authenticator app, or run\n"
            "`make demo-codes` to print the current codes (each code works once):"
        )
        for user in staff:
            self.stdout.write(f"  {user.email:<26} {totp_secret(user)}")
