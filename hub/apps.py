from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HubConfig(AppConfig):
    """The shared data catalog (数据目录)."""

    name = "hub"
    verbose_name = _("数据目录")

    def ready(self) -> None:
        from celery.signals import task_failure, task_retry
        from django.db.models.signals import post_migrate, pre_delete

        from hub.beat import register_periodic_tasks
        from hub.models import DataResource, UploadBatch
        from hub.recordstore import lock_for_delete
        from hub.task_monitoring import on_task_failure, on_task_retry

        task_failure.connect(on_task_failure, dispatch_uid="hub.task_failure")
        task_retry.connect(on_task_retry, dispatch_uid="hub.task_retry")
        post_migrate.connect(register_periodic_tasks, sender=self, dispatch_uid="hub.beat")
        for model in (DataResource, UploadBatch):
            pre_delete.connect(
                lock_for_delete, sender=model, dispatch_uid=f"hub.lock.{model.__name__}"
            )
