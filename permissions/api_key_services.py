"""Writes of partner API keys: create a key, change its scopes, revoke it. All audited.

A key acts as its department's service user (``svc-<code>``), so group permissions,
throttles and the audit work for it unchanged; ``permissions.authentication`` resolves a
request's key and ``permissions.api_scopes`` checks its scopes. Every function is
keyword-only, typed and atomic; the audit event is written in the same transaction as the
change it records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from hub.catalog.models import Department
from permissions.audit import log_event
from permissions.models import ApiKeyScope, PartnerApiKey, clean_api_key_scopes
from permissions.selectors import UserLike, may_change


@transaction.atomic
def create_api_key(
    *,
    department: Department,
    name: str,
    expires_at: dt.datetime | None = None,
    scopes: Sequence[str] = (ApiKeyScope.READ,),
) -> tuple[PartnerApiKey, str]:
    """Create a key bound to the department's service user; the plaintext is returned once.

    ``scopes``: "read" (GET requests) and/or "push" (uploads and record pushes to the
    resources the department provides).
    """
    scopes = clean_api_key_scopes([str(scope) for scope in scopes])
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=f"svc-{department.code}")
    if created:
        user.set_unusable_password()
        user.save()
    user.groups.add(department.group)
    api_key, key = PartnerApiKey.objects.create_key(
        name=name, department=department, user=user, expiry_date=expires_at, scopes=scopes
    )
    log_event(
        actor=None,
        action="create_key",
        api_key_prefix=api_key.prefix,
        detail={"department": department.code, "name": name, "scopes": scopes},
    )
    return api_key, key


@dataclass(frozen=True)
class ScopeChange:
    """The scopes of a key before and after ``set_api_key_scopes``."""

    before: list[str]
    after: list[str]

    @property
    def changed(self) -> bool:
        return self.before != self.after


@transaction.atomic
def set_api_key_scopes(
    *, user: UserLike | None, api_key: PartnerApiKey, scopes: Sequence[str]
) -> ScopeChange:
    """Change what a key may do (audited when it changes); applies to its next request.

    ``user`` None is the system; a user must pass the key's door, as for revoking.
    """
    after = clean_api_key_scopes([str(scope) for scope in scopes])
    locked = PartnerApiKey.objects.select_for_update().get(pk=api_key.pk)
    if user is not None and not may_change(PartnerApiKey, locked.pk, user):
        raise PermissionDenied(_("无权修改该密钥。"))
    change = ScopeChange(before=list(locked.scopes or []), after=after)
    if change.changed:
        PartnerApiKey.objects.filter(pk=api_key.pk).update(scopes=after)
        log_event(
            actor=user,
            action="key_scopes",
            api_key_prefix=api_key.prefix,
            detail={"before": change.before, "after": change.after},
        )
    api_key.scopes = after
    return change


@transaction.atomic
def revoke_api_key(*, user: UserLike | None, api_key: PartnerApiKey) -> None:
    """Revoke a key; requests with it fail from the next one on.

    ``user`` None is the system; a user must pass the key's door (superusers, the key's
    department staff holding the model permission). Revoking a revoked key does nothing.
    """
    locked = PartnerApiKey.objects.select_for_update().get(pk=api_key.pk)
    if user is not None and not may_change(PartnerApiKey, locked.pk, user):
        raise PermissionDenied(_("无权吊销该密钥。"))
    api_key.revoked = True
    if locked.revoked:
        return
    PartnerApiKey.objects.filter(pk=api_key.pk).update(revoked=True)
    log_event(
        actor=user,
        action="revoke_key",
        api_key_prefix=api_key.prefix,
        detail={"department": locked.department.code},
    )
