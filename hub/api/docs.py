"""The API's documentation pages, served offline (no external font or script hosts)."""

from __future__ import annotations

from drf_spectacular.views import SpectacularRedocView


class OfflineRedocView(SpectacularRedocView):
    """ReDoc from drf_spectacular_sidecar (``REDOC_DIST = "SIDECAR"``), without the Google
    Fonts links of drf-spectacular's own template."""

    template_name = "hub/redoc.html"
