from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HubConfig(AppConfig):
    """The shared data catalog (数据目录)."""

    name = "hub"
    verbose_name = _("数据目录")
