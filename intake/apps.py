from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "intake"
    verbose_name = "Catalogue and requests"

    def ready(self):
        from intake import receivers  # noqa: F401  (starts a checked request at sign-in)
