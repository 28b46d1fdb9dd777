from rest_framework.routers import DefaultRouter

from crm.api.cases import CaseViewSet
from crm.api.categories import CaseCategoryViewSet
from crm.api.contacts import ContactViewSet
from crm.api.notifications import NotificationViewSet

router = DefaultRouter(trailing_slash=True)
router.register("contacts", ContactViewSet, basename="contact")
router.register("cases", CaseViewSet, basename="case")
router.register("case-categories", CaseCategoryViewSet, basename="case-category")
router.register("notifications", NotificationViewSet, basename="notification")

urlpatterns = router.urls
