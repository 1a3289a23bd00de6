"""Registry of department connectors: ``@register`` a class.

The department modules (``connectors.profiles.departments``) register themselves
when the app is ready (``ConnectorsConfig.ready``); ``connectors.profiles.resolve``
picks a resource's connector and puts its profile in place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.base import Connector

if TYPE_CHECKING:
    from hub.catalog.models import DataResource, Department

_REGISTRY: dict[str, type[Connector]] = {}


def register(cls: type[Connector]) -> type[Connector]:
    """Class decorator: make a connector available to :func:`connector_for`."""
    if not cls.code or cls.code == "generic":
        raise ValueError(f"{cls.__name__} needs its own code")
    existing = _REGISTRY.get(cls.code)
    if existing is not None and existing is not cls:
        raise ValueError(f"connector code {cls.code!r} is registered twice")
    _REGISTRY[cls.code] = cls
    return cls


def registered() -> dict[str, type[Connector]]:
    """All registered connector classes by code."""
    return dict(_REGISTRY)


class GenericConnector(Connector):
    """Uses only the FieldSpecs of the resource and the header aliases from the admin."""

    code = "generic"
    version = "1.0"


def _class_for(resource: DataResource, department: Department | None = None) -> Connector:
    """The registered connector: the uploading department's one wins, then the
    provider's, then any; a generic connector when none is registered."""
    candidates = [cls for cls in _REGISTRY.values() if resource.code in cls.resources]
    preferred = [department.code] if department is not None else []
    provider = getattr(resource, "provider", None)
    if provider is not None:
        preferred.append(provider.code)
    for dept_code in preferred:
        for cls in candidates:
            if cls.department == dept_code:
                return cls()
    if candidates:
        return sorted(candidates, key=lambda c: c.code)[0]()
    return GenericConnector()
