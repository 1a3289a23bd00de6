from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PermissionsConfig(AppConfig):
    """Sharing policy, grants, masking, API keys and audit (共享授权)."""

    name = "permissions"
    verbose_name = _("共享授权")
