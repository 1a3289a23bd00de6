from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecordsConfig(AppConfig):
    """Upload batches, records and the record store (数据记录), above the permissions.

    Its tables keep the ``hub_`` names they had when records lived in the ``hub`` app.
    """

    name = "hub.records"
    label = "records"
    verbose_name = _("数据记录")

    def ready(self) -> None:
        from django.db.models.signals import pre_delete

        from hub.catalog.models import DataResource
        from hub.records import policies
        from hub.records.models import UploadBatch
        from hub.records.recordstore import lock_for_delete

        policies.register()
        for model in (DataResource, UploadBatch):
            pre_delete.connect(
                lock_for_delete, sender=model, dispatch_uid=f"hub.lock.{model.__name__}"
            )
