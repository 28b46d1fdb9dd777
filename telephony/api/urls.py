from rest_framework.routers import DefaultRouter

from telephony.api.connections import AsteriskConnectionViewSet, TwilioAccountViewSet

router = DefaultRouter(trailing_slash=True)
router.register("asterisk-connections", AsteriskConnectionViewSet, basename="asterisk-connection")
router.register("twilio-accounts", TwilioAccountViewSet, basename="twilio-account")

urlpatterns = router.urls
