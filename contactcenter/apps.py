from django.apps import AppConfig


class ContactCenterConfig(AppConfig):
    name = "contactcenter"
    verbose_name = "Contact center"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from contactcenter import signals

        signals.connect()
