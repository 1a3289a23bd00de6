"""Routes of the records API (mounted under /api/v1/)."""

from django.urls import path

from hub.api.records import ResourceRecordsView

urlpatterns = [
    path(
        "resources/<slug:code>/records/",
        ResourceRecordsView.as_view(),
        name="resource-records",
    ),
]
