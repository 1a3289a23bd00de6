"""Catalog API routes (mounted under /api/v1/)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from hub.api.views import DataResourceViewSet, DepartmentViewSet, catalog_jsonld

router = SimpleRouter()
router.register("departments", DepartmentViewSet, basename="department")
router.register("resources", DataResourceViewSet, basename="resource")

urlpatterns = [
    path("catalog.jsonld", catalog_jsonld, name="catalog-jsonld"),
    *router.urls,
]
