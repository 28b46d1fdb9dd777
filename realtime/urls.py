"""The browser pages (realtime.views); config/urls.py includes them at the root."""

from django.urls import path

from realtime import invitations, views

app_name = "realtime"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("console/", views.console, name="console"),
    path("wallboard/", views.wallboard, name="wallboard"),
    path("invite/accept/", invitations.accept, name="invite-accept"),
    path("invite/<str:token>/", invitations.open_link, name="invite"),
]
