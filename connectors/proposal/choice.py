"""Which profile a batch loads with: the one chosen for it (``ingest --profile``), else
the one saved for files with its header signature, else the department's default."""

from __future__ import annotations

from pathlib import Path

from connectors.base import Connector
from connectors.models import ConnectorProfile
from connectors.proposal.sample import file_signature


def _departments(resource, department) -> list[int]:
    return [d for d in (getattr(department, "pk", None), resource.provider_id) if d]


def upload_signature(*, resource, department, path: Path, filename: str, sheet=None) -> str:
    """The file's header signature when a profile for some signature exists (else "":
    no file is opened twice for nothing)."""
    saved = ConnectorProfile.objects.filter(
        resource_id=resource.pk, department_id__in=_departments(resource, department)
    ).exclude(header_signature="")
    if not saved.exists():
        return ""
    return file_signature(path=Path(path), filename=filename, sheet=sheet or None)


def chosen_profile(batch) -> ConnectorProfile | None:
    """The profile version a batch names before its load (``choose_profile``)."""
    if batch.profile_version is None:
        return None
    candidates = ConnectorProfile.objects.filter(
        resource_id=batch.resource_id,
        department_id__in=_departments(batch.resource, batch.department),
        version=batch.profile_version,
    )
    found = {p.department_id: p for p in candidates}
    return found.get(batch.department_id) or found.get(batch.resource.provider_id)


def connector_for_file(batch) -> Connector:
    """The connector for an uploaded file's batch (see the module docstring)."""
    from connectors.profiles.registry import _class_for
    from connectors.profiles.resolve import connector_for
    from connectors.profiles.versions import apply_profile

    profile = chosen_profile(batch)
    if profile is not None:
        return apply_profile(_class_for(batch.resource, batch.department), profile)
    signature = upload_signature(
        resource=batch.resource,
        department=batch.department,
        path=Path(batch.file.path),
        filename=batch.original_filename or batch.file.name,
        sheet=batch.sheet,
    )
    return connector_for(batch.resource, batch.department, signature=signature)
