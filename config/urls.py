from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView

from config import apidocs, error_pages
from config.metrics import metrics
from contactcenter.api import health
from realtime.favicon import favicon
from realtime.urls import api_urlpatterns as realtime_api

api_v1 = [
    path("", include("contactcenter.api.urls")),
    path("", include("crm.api.urls")),
    path("", include("telephony.api.urls")),
    path("", include(realtime_api)),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("favicon.ico", favicon, name="favicon"),
    path("api/v1/", include(api_v1)),
    path("telephony/twilio/", include("telephony.twilio.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", apidocs.swagger_ui, name="swagger-ui"),
    path("api/asyncapi/", apidocs.AsyncApiView.as_view(), name="asyncapi"),
    # Last under /api/: an unknown API path is a 404 in the API's shape, DEBUG or not.
    re_path(r"^api/", error_pages.ApiNotFound.as_view(), name=error_pages.API_NOT_FOUND),
    path("admin/", admin.site.urls),
    path("", include("realtime.urls")),  # login, /console/, /wallboard/
]

# With DEBUG off: the API's error shape under /api/, the site's pages elsewhere.
handler400 = "config.error_pages.bad_request"
handler403 = "config.error_pages.permission_denied"
handler404 = "config.error_pages.page_not_found"
handler500 = "config.error_pages.server_error"
