"""Top-level URLs: admin, REST API v1 (one module per app), OpenAPI, operations dashboard."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from hub.api.docs import OfflineRedocView

api_v1 = [
    path("", include("hub.api.urls")),
    path("", include("connectors.api.urls")),
    path("", include("permissions.api.urls")),
    path("", include("governance.api.urls")),
    path("", include("governance.assessment.api")),
    path("", include("streaming.api.urls")),
    path("ops/", include("operations.api.urls")),
    path("risk/", include("risk.api.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", OfflineRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("ops/", include("operations.urls")),
    path("risk/", include("risk.urls")),
    path("explorer/", include("explorer.urls")),
    path("governance/assessment/", include("governance.assessment.urls")),
    path("governance/", include("governance.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("access/", include("permissions.urls")),
    path("", include("hub.urls_site")),
]

# JSON errors under /api/ when Django answers itself (no route, a crash outside DRF).
handler400 = "hub.api.exceptions.bad_request"
handler403 = "hub.api.exceptions.permission_denied"
handler404 = "hub.api.exceptions.page_not_found"
handler500 = "hub.api.exceptions.server_error"
