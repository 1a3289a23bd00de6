"""REST API routes of this app (mounted under /api/v1/ops/)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from operations.api import views

router = SimpleRouter()
router.register("points", views.PointViewSet, basename="ops-point")
router.register("alerts", views.AlertViewSet, basename="ops-alert")
router.register("work-orders", views.WorkOrderViewSet, basename="ops-work-order")

urlpatterns = [
    path("summary/", views.summary, name="ops-summary"),
    *router.urls,
]
