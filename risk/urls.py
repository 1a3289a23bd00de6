"""Pages of the risk index (mounted under /risk/)."""

from django.urls import path

from risk import views

app_name = "risk"
urlpatterns = [path("", views.risk_page, name="index")]
