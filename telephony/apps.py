from django.apps import AppConfig


class TelephonyConfig(AppConfig):
    name = "telephony"
    verbose_name = "Telephony"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core import checks

        from contactcenter import ports
        from telephony.egress import check_settings
        from telephony.pbx import BridgePort

        checks.register(check_settings)
        # Services reach the PBX through this port (contactcenter.ports).
        ports.install(BridgePort())
        from contactcenter.hooks import recordings_purged
        from telephony.twilio.recording_media import twilio_copies_delete

        # A purged recording (retention, erasure) is deleted from Twilio too.
        recordings_purged.connect(twilio_copies_delete, dispatch_uid="telephony.twilio_purged")
