from django.urls import path
from rest_framework.routers import DefaultRouter

from telephony.api.connections import AsteriskConnectionViewSet, TwilioAccountViewSet
from telephony.twilio.token_api import TwilioVoiceTokenView

router = DefaultRouter(trailing_slash=True)
router.register("asterisk-connections", AsteriskConnectionViewSet, basename="asterisk-connection")
router.register("twilio-accounts", TwilioAccountViewSet, basename="twilio-account")

urlpatterns = [
    path("telephony/twilio/token/", TwilioVoiceTokenView.as_view(), name="twilio-voice-token"),
    *router.urls,
]
