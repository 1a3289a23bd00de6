"""Pages of the data explorer (mounted under /explorer/)."""

from django.urls import path

from explorer import views

app_name = "explorer"
urlpatterns = [
    path("", views.resource_index, name="index"),
    path("<slug:code>/", views.resource_page, name="resource"),
]
