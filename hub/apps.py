from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HubConfig(AppConfig):
    """The project package: settings, URLs, the REST API, Celery, beat, the demo.

    Its models moved to ``hub.catalog`` and ``hub.records``; its migrations stay, as the
    history those apps' tables were created by."""

    name = "hub"
    verbose_name = _("城市数据中枢")

    def ready(self) -> None:
        from celery.signals import task_failure, task_retry
        from django.db.models.signals import post_migrate

        from hub.beat import register_periodic_tasks
        from hub.task_monitoring import on_task_failure, on_task_retry

        task_failure.connect(on_task_failure, dispatch_uid="hub.task_failure")
        task_retry.connect(on_task_retry, dispatch_uid="hub.task_retry")
        post_migrate.connect(register_periodic_tasks, sender=self, dispatch_uid="hub.beat")
