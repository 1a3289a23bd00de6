"""REST API routes of this app (mounted under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from permissions.api.views import AccessRequestViewSet

router = SimpleRouter()
router.register("access-requests", AccessRequestViewSet, basename="access-request")

urlpatterns = router.urls
