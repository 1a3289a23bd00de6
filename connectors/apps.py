from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConnectorsConfig(AppConfig):
    """Per-department normalisation of uploads (数据接入)."""

    name = "connectors"
    verbose_name = _("数据接入")

    def ready(self) -> None:
        from connectors import policies

        policies.register()
        # Department connectors register on import (@register); the registry
        # itself stays below them.
        import connectors.profiles.departments  # noqa: F401
