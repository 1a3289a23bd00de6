"""REST API routes of this app (mounted under /api/v1/)."""

from django.urls import path

from connectors.api import views

urlpatterns = [
    path(
        "resources/<slug:code>/uploads/",
        views.ResourceUploadView.as_view(),
        name="resource-upload",
    ),
    path(
        "resources/<slug:code>/records/",
        views.ResourceRecordsEndpoint.as_view(),
        name="resource-records",
    ),
    path(
        "resources/<slug:code>/template.xlsx",
        views.ResourceTemplateView.as_view(),
        name="resource-template",
    ),
    path("batches/<int:pk>/", views.BatchDetailView.as_view(), name="batch-detail"),
    path(
        "batches/<int:pk>/error-report.xlsx",
        views.BatchErrorReportView.as_view(),
        name="batch-error-report",
    ),
]
