from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class PermissionsConfig(AppConfig):
    """Sharing policy, grants, masking, API keys and audit (共享授权)."""

    name = "permissions"
    verbose_name = pgettext_lazy("app", "共享授权")

    def ready(self) -> None:
        from hub.catalog.signals import catalog_changed
        from permissions import policies
        from permissions.audit import audit_catalog_change

        policies.register()
        catalog_changed.connect(audit_catalog_change, dispatch_uid="permissions.audit_catalog")
