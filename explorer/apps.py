from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExplorerConfig(AppConfig):
    """Data explorer (共享数据浏览): resource pages and record grids for people.

    No models of its own: every read goes through the permission door of the catalog and
    the records (``restrict``, ``record_access``) and is audited like the records API.
    """

    name = "explorer"
    verbose_name = _("共享数据浏览")
