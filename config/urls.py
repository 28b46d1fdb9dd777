from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from config import apidocs
from config.metrics import metrics
from contactcenter.api import health

api_v1 = [
    path("", include("contactcenter.api.urls")),
    path("", include("crm.api.urls")),
    path("", include("telephony.api.urls")),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("api/v1/", include(api_v1)),
    path("telephony/twilio/", include("telephony.twilio.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", apidocs.swagger_ui, name="swagger-ui"),
    path("admin/", admin.site.urls),
    path("", include("realtime.urls")),  # login, /console/, /wallboard/
]
