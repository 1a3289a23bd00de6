from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperationsConfig(AppConfig):
    """Unified operations view (城市运行): points, readings, alerts, work orders."""

    name = "operations"
    verbose_name = _("城市运行")

    def ready(self) -> None:
        from operations import policies

        policies.register()
        from django.db.models.signals import pre_delete

        from hub.records.signals import batch_loaded, records_corrected
        from operations.models import MonitoringPoint
        from operations.receivers import enqueue_sync, lock_point_for_delete, resync_corrected

        batch_loaded.connect(enqueue_sync, dispatch_uid="operations.enqueue_sync")
        records_corrected.connect(resync_corrected, dispatch_uid="operations.resync_corrected")
        pre_delete.connect(
            lock_point_for_delete, sender=MonitoringPoint, dispatch_uid="operations.lock_point"
        )
