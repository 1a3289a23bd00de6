from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StreamingConfig(AppConfig):
    """Micro-batched pushes (实时推送): receipts acknowledged fast, loaded per window."""

    name = "streaming"
    verbose_name = _("实时推送")

    def ready(self) -> None:
        from streaming import policies, tasks  # noqa: F401  (tasks: registered by name)

        policies.register()
