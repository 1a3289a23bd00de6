from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    """The shared data catalog (数据目录): departments, resources, field specs, code lists.

    The lowest layer: it imports no other app of the hub. Its tables keep the ``hub_``
    names they had when the catalog lived in the ``hub`` app.
    """

    name = "hub.catalog"
    label = "catalog"
    verbose_name = _("数据目录")
