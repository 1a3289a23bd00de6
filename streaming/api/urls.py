"""REST API routes of the push path (mounted under /api/v1/)."""

from django.urls import path

from streaming.api import views

urlpatterns = [
    path("resources/<slug:code>/pushes/", views.ResourcePushView.as_view(), name="resource-push"),
    path("push-receipts/<int:pk>/", views.PushReceiptView.as_view(), name="push-receipt-detail"),
]
