from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RiskConfig(AppConfig):
    """District risk index (风险谱系), after the INFORM risk model."""

    name = "risk"
    verbose_name = _("风险谱系")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from risk import policies

        policies.register()
        from operations.panels import register_panel

        register_panel("risk/_ops_panel.html")
        from hub.records.signals import batch_loaded, records_corrected
        from risk.receivers import enqueue_recompute, recompute_corrected

        batch_loaded.connect(enqueue_recompute, dispatch_uid="risk.enqueue_recompute")
        records_corrected.connect(recompute_corrected, dispatch_uid="risk.recompute_corrected")
