from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperationsConfig(AppConfig):
    """Unified operations view (城市运行): points, readings, alerts, work orders."""

    name = "operations"
    verbose_name = _("城市运行")
