from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Payments"

    def ready(self):
        from billing import receivers  # noqa: F401  (reacts to the request lifecycle)
