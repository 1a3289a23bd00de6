from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class GovernanceConfig(AppConfig):
    """Data governance between departments: objections (数据异议 / 校核纠错), notifications."""

    name = "governance"
    verbose_name = pgettext_lazy("app", "数据治理")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from governance import policies
        from governance.needs import policies as need_policies

        policies.register()
        need_policies.register()
        from governance.assessment import indicators

        indicators.register_builtin()
        from governance.receivers import forget_deleted_records
        from hub.records.signals import records_deleting

        records_deleting.connect(forget_deleted_records, dispatch_uid="governance.records")
