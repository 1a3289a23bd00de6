"""REST API routes of the governance app (mounted under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from governance.api.views import NotificationViewSet, ObjectionViewSet
from governance.needs.api import NeedViewSet

router = SimpleRouter()
router.register("objections", ObjectionViewSet, basename="objection")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("needs", NeedViewSet, basename="need")

urlpatterns = router.urls
