"""Failed Celery tasks (任务失败记录), kept for operators in the admin."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from hub.catalog.restricted import RestrictedManager


class TaskFailure(models.Model):
    """One failed run of a Celery task: what failed, where, and why."""

    task_name = models.CharField(_("任务名称"), max_length=200, db_index=True)
    task_id = models.CharField(_("任务编号"), max_length=64, blank=True)
    arguments = models.TextField(_("参数"), blank=True)
    exception_type = models.CharField(_("异常类型"), max_length=200)
    message = models.TextField(_("异常信息"), blank=True)
    traceback = models.TextField(_("堆栈"), blank=True)
    hostname = models.CharField(_("执行节点"), max_length=200, blank=True)
    will_retry = models.BooleanField(_("将重试"), default=False)
    occurred_at = models.DateTimeField(_("发生时间"), auto_now_add=True, db_index=True)

    objects = RestrictedManager()

    class Meta:
        # The table kept its name when the model left the ``hub`` app.
        db_table = "hub_taskfailure"
        verbose_name = _("任务失败记录")
        verbose_name_plural = pgettext_lazy("plural", "任务失败记录")
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.task_name} {self.exception_type}"
