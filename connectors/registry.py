"""Registry of department connectors: ``@register`` a class, ``connector_for`` finds it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.base import Connector

if TYPE_CHECKING:
    from hub.catalog.models import DataResource, Department

_REGISTRY: dict[str, type[Connector]] = {}
_LOADED = False


def register(cls: type[Connector]) -> type[Connector]:
    """Class decorator: make a connector available to :func:`connector_for`."""
    if not cls.code or cls.code == "generic":
        raise ValueError(f"{cls.__name__} needs its own code")
    existing = _REGISTRY.get(cls.code)
    if existing is not None and existing is not cls:
        raise ValueError(f"connector code {cls.code!r} is registered twice")
    _REGISTRY[cls.code] = cls
    return cls


def _load_departments() -> None:
    """Import connectors/departments/* once so their decorators run."""
    global _LOADED
    if not _LOADED:
        import connectors.departments  # noqa: F401  (registers on import)

        _LOADED = True


def registered() -> dict[str, type[Connector]]:
    """All registered connector classes by code."""
    _load_departments()
    return dict(_REGISTRY)


class GenericConnector(Connector):
    """Uses only the FieldSpecs of the resource and the header aliases from the admin."""

    code = "generic"
    version = "1.0"


def connector_for(
    resource: DataResource, department: Department | None = None, *, signature: str = ""
) -> Connector:
    """The connector feeding ``resource`` with the newest profile of the department (else
    the provider) for it in place of its declarations (``connectors.profiles``); one saved
    for files with the header ``signature`` first."""
    from connectors.profiles import apply_profile, current_profile

    return apply_profile(
        _class_for(resource, department), current_profile(resource, department, signature)
    )


def _class_for(resource: DataResource, department: Department | None = None) -> Connector:
    """The registered connector: the uploading department's one wins, then the
    provider's, then any; a generic connector when none is registered."""
    _load_departments()
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
