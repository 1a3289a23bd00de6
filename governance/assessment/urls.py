"""Pages of the 考核 (mounted under /governance/assessment/)."""

from django.urls import path

from governance.assessment import views

app_name = "assessment"
urlpatterns = [
    path("", views.assessment_page, name="index"),
    path("export.xlsx", views.assessment_export, name="export"),
]
