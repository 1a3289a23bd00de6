"""Notification messages of governance (通知消息): codes the hub stores with parameters,
rendered in the viewer's language by ``Notification.message``. Each part of governance
adds its own codes (``governance.needs.models`` adds the needs').
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

# Messages the hub stores as a code and parameters, rendered in the viewer's language.
MESSAGES = {
    "objection_filed": _(
        "%(department)s 对数据资源 %(resource)s 提出数据异议 #%(objection)s，请在 %(due)s 前答复。"
    ),
    "objection_corrected": _("数据异议 #%(objection)s（%(resource)s）已由提供部门更正。"),
    "objection_rejected": _("数据异议 #%(objection)s（%(resource)s）已被提供部门驳回：%(reason)s"),
    "objection_escalated": _(
        "数据异议 #%(objection)s（%(resource)s）逾期未答复，已提请共享主管部门督办。"
    ),
}
