"""The browser pages (realtime.views), which config/urls.py includes at the root, and
realtime's API routes (``api_urlpatterns``), which it includes under /api/v1/."""

from django.urls import path

from realtime import audit_page, calls_page, invitations, views
from realtime.api import RealtimeTicketView

app_name = "realtime"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("console/", views.console, name="console"),
    path("wallboard/", views.wallboard, name="wallboard"),
    path("supervisor/", views.supervisor, name="supervisor"),
    path("calls/", calls_page.call_list, name="calls"),
    path("audit/", audit_page.audit_log, name="audit"),
    path("invite/accept/", invitations.accept, name="invite-accept"),
    path("invite/<str:token>/", invitations.open_link, name="invite"),
]

api_urlpatterns = [
    path("realtime/ticket/", RealtimeTicketView.as_view(), name="realtime-ticket"),
]
