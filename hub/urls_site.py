"""Site-level pages: the home redirect and health probes."""

from django.urls import path
from django.views.generic import RedirectView

from hub.health import healthz, readyz

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False), name="home"),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
]
