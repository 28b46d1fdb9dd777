from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"
    verbose_name = "Realtime"

    def ready(self) -> None:
        # The screens are where contactcenter's committed changes go.
        from contactcenter import publish
        from realtime.publish import ScreenSink

        publish.install(ScreenSink())
