"""Which connector reads a resource's files: the registered class, with the newest
profile of the uploading department (else the provider) in place of its declarations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.base import Connector
from connectors.profiles.registry import _class_for
from connectors.profiles.versions import apply_profile, current_profile

if TYPE_CHECKING:
    from hub.catalog.models import DataResource, Department


def connector_for(
    resource: DataResource, department: Department | None = None, *, signature: str = ""
) -> Connector:
    """The connector feeding ``resource`` with the newest profile of the department (else
    the provider) for it in place of its declarations (``connectors.profiles.versions``); one saved
    for files with the header ``signature`` first."""
    return apply_profile(
        _class_for(resource, department), current_profile(resource, department, signature)
    )
