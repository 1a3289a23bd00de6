"""Site-level pages: the home redirect, the favicon and health probes."""

from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static
from django.urls import path
from django.views.generic import RedirectView

from hub.health import healthz, readyz


def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """``/favicon.ico`` for browsers that ask the root: the static icon (hashed name)."""
    return HttpResponseRedirect(static("hub/favicon.ico"))


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False), name="home"),
    path("favicon.ico", favicon, name="favicon"),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
]
