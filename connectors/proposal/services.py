"""The mapping assistant's services: who may use it, proposing for a stored upload, and
saving the corrected proposal as a profile version (permission-checked, audited).

Only stewards of the resource's provider department use it (and superusers): a caller
who may not upload to the resource, or who acts for another department, gets ``None``
from ``steward_resource`` and the pages answer 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from connectors.models import ConnectorProfile
from connectors.proposal.engine import propose_sample, refresh_details
from connectors.proposal.profile_build import coordinate_pair, corrected, preview, to_profile
from connectors.proposal.result import Proposal
from connectors.proposal.sample import read_sample
from connectors.selectors import uploadable_resource
from hub.catalog.models import DataResource
from hub.catalog.restricted import VIEW
from hub.records.models import UploadBatch
from permissions.selectors import UserLike, user_department_ids


@dataclass(frozen=True)
class SavedProposal:
    """The profile version a proposal was saved as."""

    profile: ConnectorProfile
    signature: str


def steward_resource(user: UserLike, code: str) -> DataResource | None:
    """The resource if ``user`` is a steward of its provider department (or a superuser)
    and may upload to it; else None (answer 404)."""
    resource = uploadable_resource(user, code)
    if resource is None:
        return None
    if getattr(user, "is_superuser", False) or resource.provider_id in user_department_ids(user):
        return resource
    return None


def steward_batch(user: UserLike, resource: DataResource, batch_id: int) -> UploadBatch | None:
    """A batch of the resource the user may see (through the batches' door), or None."""
    return (
        UploadBatch.objects.restrict(user, VIEW)
        .select_related("resource", "department")
        .filter(pk=batch_id, resource=resource)
        .first()
    )


def propose_for_batch(
    *, user: UserLike, batch: UploadBatch, edits: dict[str, Any] | None = None
) -> Proposal:
    """The proposal for a stored upload, with the steward's corrections (``edits``: the
    keyword arguments of ``profile_build.corrected``) and their preview; the read of its
    rows is audited. Raises ``InputError`` (unreadable file) and ``EditError``."""
    from permissions.audit import log_event

    resource = batch.resource
    sample = read_sample(
        path=Path(batch.file.path),
        filename=batch.original_filename or batch.file.name,
        sheet=batch.sheet or None,
    )
    proposal = propose_sample(sample, resource=resource, department=resource.provider)
    if edits:
        names = list(resource.fields.values_list("name", flat=True))
        proposal = corrected(proposal, field_names=names, pair=coordinate_pair(resource), **edits)
        refresh_details(proposal, sample, resource=resource, department=resource.provider)
        preview(proposal, sample=sample, resource=resource, department=resource.provider)
    log_event(
        actor=user,
        action="read",
        resource=batch.resource,
        rows=len(proposal.preview),
        detail={"view": "proposal", "batch": batch.pk, "sampled_rows": proposal.sampled_rows},
    )
    return proposal


@transaction.atomic
def save_proposal(
    *,
    user: UserLike,
    resource: DataResource,
    proposal: Proposal,
    mapping: dict[str, str] | None = None,
    units: dict[str, str] | None = None,
    crs: str | None = None,
    layouts: dict[str, str] | None = None,
    timezone: str | None = None,
    decimal_comma: str | None = None,
    filename: str = "",
) -> SavedProposal:
    """Save the proposal, with the steward's corrections, as the next profile version of
    the provider department for the resource, bound to the proposal's header signature.

    Raises ``PermissionError`` for a caller who is not the department's steward,
    ``profile_build.EditError`` for a bad correction and ``ValidationError`` for a
    profile whose values do not check (``profiles.profile_errors``).
    """
    from django.core.exceptions import ValidationError

    from connectors.profiles.versions import profile_errors, save_profile

    if steward_resource(user, resource.code) is None:
        raise PermissionError(resource.code)
    names = list(resource.fields.values_list("name", flat=True))
    final = corrected(
        proposal,
        field_names=names,
        mapping=mapping,
        units=units,
        crs=crs,
        layouts=layouts,
        timezone=timezone,
        decimal_comma=decimal_comma,
        pair=coordinate_pair(resource),
    )
    profile = to_profile(final, resource=resource, department=resource.provider, filename=filename)
    errors = profile_errors(profile)
    if errors:
        raise ValidationError(errors)
    saved = save_profile(profile=profile, user=user)
    return SavedProposal(profile=saved, signature=saved.header_signature)


def choose_profile(*, batch: UploadBatch, profile: ConnectorProfile) -> UploadBatch:
    """Name the profile version a received batch loads with (``ingest --profile``);
    the load then uses it instead of the current one (``choice.chosen_profile``)."""
    if profile.resource_id != batch.resource_id:
        raise ValueError("the profile is not one of the batch's resource")
    from permissions.audit import log_event

    with transaction.atomic():
        UploadBatch.objects.filter(pk=batch.pk).update(profile_version=profile.version)
        log_event(
            actor=batch.uploaded_by,
            action="profile",
            resource=batch.resource,
            detail={"batch": batch.pk, "profile": profile.pk, "version": profile.version},
        )
    batch.profile_version = profile.version
    return batch
