from django.urls import path
from rest_framework.routers import DefaultRouter

from crm.api.cases import CaseViewSet
from crm.api.categories import CaseCategoryViewSet
from crm.api.contacts import ContactViewSet
from crm.api.exports import CaseExportViewSet
from crm.api.notifications import NotificationViewSet
from crm.api.preferences import NotificationPreferenceListView, NotificationPreferenceView
from crm.api.trash import TrashedCaseViewSet, TrashedContactViewSet

router = DefaultRouter(trailing_slash=True)
router.register("contacts", ContactViewSet, basename="contact")
router.register("cases", CaseViewSet, basename="case")
router.register("case-categories", CaseCategoryViewSet, basename="case-category")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("trash/contacts", TrashedContactViewSet, basename="trashed-contact")
router.register("trash/cases", TrashedCaseViewSet, basename="trashed-case")

urlpatterns = [
    path("cases/export.csv", CaseExportViewSet.as_view({"get": "list"}), name="case-export"),
    path(
        "notification-preferences/",
        NotificationPreferenceListView.as_view(),
        name="notification-preference-list",
    ),
    path(
        "notification-preferences/<str:kind>/",
        NotificationPreferenceView.as_view(),
        name="notification-preference-detail",
    ),
    *router.urls,
]
