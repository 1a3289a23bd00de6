"""REST API routes of the risk index (mounted under /api/v1/risk/)."""

from django.urls import path

from risk.api import views

urlpatterns = [
    path("districts/", views.districts, name="risk-districts"),
    path("districts/<str:code>/history/", views.district_history, name="risk-district-history"),
    path("map/", views.map_layer, name="risk-map"),
]
