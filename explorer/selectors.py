"""Reads of the data explorer. Every read passes through a model's door
(``Model.objects.restrict(user, action)``) or the records' access (``record_access``)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable

from django.core.cache import cache
from django.db.models import Prefetch, Q, QuerySet, TextChoices, prefetch_related_objects
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hub.catalog.models import CodeItem, DataResource, Department, FieldSpec, SharingType
from hub.catalog.models.resources import UPDATE_CYCLE_SECONDS
from hub.catalog.restricted import VIEW, UserLike
from hub.records.models import Record
from permissions.models import AccessRequest, PartnerApiKey, RequestStatus
from permissions.record_access import (
    RecordAccess,
    load_annotated_grants,
    record_access,
    with_active_grants,
)
from permissions.selectors import UPLOAD_RECORDS, VIEW_RECORDS, user_department_ids

DISTRICT_CODE_LIST = "gb2260-shanghai"
COUNT_CACHE_SECONDS = 300
COUNT_CAP = 10_000


class AccessStatus(TextChoices):
    """The caller's access to a resource's records, as the explorer shows it."""

    READABLE = "readable", _("可读")
    REQUESTABLE = "requestable", _("可申请")
    NOT_SHARED = "not_shared", _("不予共享")
    PENDING = "pending", _("申请中")


class Freshness(TextChoices):
    FRESH = "fresh", _("按时更新")
    STALE = "stale", _("更新超时")
    NEVER = "never", _("尚无数据")


def resource_index(
    *, user: UserLike, search: str = "", provider: str = "", sharing_type: str = ""
) -> QuerySet[DataResource]:
    """Resources whose metadata the caller may see, by name, code, summary or keyword."""
    queryset = DataResource.objects.restrict(user, VIEW).select_related("provider")
    if provider:
        queryset = queryset.filter(provider__code=provider)
    if sharing_type:
        queryset = queryset.filter(sharing_type=sharing_type)
    if search:
        queryset = queryset.filter(
            Q(name__icontains=search)
            | Q(code__icontains=search)
            | Q(summary__icontains=search)
            | Q(keywords__icontains=search)
        )
    return queryset.order_by("provider__code", "code")


def providers(*, user: UserLike) -> QuerySet[Department]:
    """Departments for the provider filter (the list of departments is not secret)."""
    return Department.objects.restrict(user, VIEW).filter(is_active=True).order_by("code")


def access_statuses(*, user: UserLike, resources: Iterable[DataResource]) -> dict[int, str]:
    """{resource id: AccessStatus} for a page of resources, in two queries."""
    resources = list(resources)
    ids = [resource.pk for resource in resources]
    readable = set(
        DataResource.objects.restrict(user, VIEW_RECORDS)
        .filter(pk__in=ids)
        .values_list("pk", flat=True)
    )
    pending = pending_requests(user=user, resource_ids=ids)
    return {
        resource.pk: status_of(
            resource, readable=resource.pk in readable, pending=resource.pk in pending
        )
        for resource in resources
    }


def pending_requests(*, user: UserLike, resource_ids: list[int]) -> set[int]:
    """Ids of those resources with a pending request of one of the caller's departments."""
    departments = user_department_ids(user)
    if not departments or not resource_ids:
        return set()
    return set(
        AccessRequest.objects.restrict(user, VIEW)
        .filter(
            status=RequestStatus.PENDING,
            requester_id__in=departments,
            resource_id__in=resource_ids,
        )
        .values_list("resource_id", flat=True)
    )


def status_of(resource: DataResource, *, readable: bool, pending: bool) -> str:
    if readable:
        return AccessStatus.READABLE
    if resource.sharing_type == SharingType.NONE:
        return AccessStatus.NOT_SHARED
    if pending:
        return AccessStatus.PENDING
    return AccessStatus.REQUESTABLE


def resource_for(*, user: UserLike, code: str) -> DataResource:
    """One resource whose metadata the caller may see (Http404 otherwise), with the
    caller's active grants annotated and its fields read through the fields' door."""
    queryset = DataResource.objects.restrict(user, VIEW).select_related("provider")
    found = with_active_grants(queryset.filter(code=code).order_by(), user).first()
    if found is None:
        raise Http404
    load_annotated_grants(found)
    fields = FieldSpec.objects.restrict(user, VIEW).select_related("code_list")
    prefetch_related_objects([found], Prefetch("fields", queryset=fields))
    return found


def access_for(*, user: UserLike, resource: DataResource) -> RecordAccess | None:
    """The caller's record access (fields, masking, row scope), None when not readable."""
    readable = DataResource.objects.restrict(user, VIEW_RECORDS).filter(pk=resource.pk).exists()
    if not readable:
        return None
    return record_access(user, resource)


def may_upload(*, user: UserLike, resource: DataResource) -> bool:
    """Whether the caller uploads to this resource (the provider's stewards)."""
    return DataResource.objects.restrict(user, UPLOAD_RECORDS).filter(pk=resource.pk).exists()


def code_names(*, user: UserLike, resource: DataResource) -> dict[int, dict[str, str]]:
    """{code list id: {code: name}} for the code lists of the resource's fields, and the
    district code list (for the district picker), in one query."""
    list_ids = {spec.code_list_id for spec in resource.fields.all() if spec.code_list_id}
    items = CodeItem.objects.restrict(user, VIEW).order_by("order", "code")
    condition = Q(code_list__code=DISTRICT_CODE_LIST)
    if list_ids:
        condition |= Q(code_list_id__in=list_ids)
    names: dict[int, dict[str, str]] = {}
    rows = items.filter(condition).values_list("code_list_id", "code_list__code", "code", "name")
    for list_id, list_code, code, name in rows:
        names.setdefault(list_id, {})[code] = name
        if list_code == DISTRICT_CODE_LIST:
            names.setdefault(0, {}).setdefault(code, name)  # 0: any district list
    return names


def district_choices(
    resource: DataResource, names: dict[int, dict[str, str]]
) -> list[tuple[str, str]]:
    """(code, name) of the districts to pick from for the resource's district field."""
    spec = next((s for s in resource.fields.all() if s.name == resource.district_field), None)
    choices = names.get(spec.code_list_id, {}) if spec and spec.code_list_id else {}
    return list((choices or names.get(0, {})).items())


def key_prefix(*, user: UserLike) -> str:
    """The prefix of an active API key of the caller's department ("" when none is
    visible to the caller); the key itself is never stored."""
    departments = user_department_ids(user)
    if not departments:
        return ""
    keys = PartnerApiKey.objects.restrict(user, VIEW).filter(
        department_id__in=departments, revoked=False
    )
    keys = keys.filter(Q(expiry_date__isnull=True) | Q(expiry_date__gt=timezone.now()))
    return keys.order_by("-created").values_list("prefix", flat=True).first() or ""


def visible_count(records: QuerySet[Record], resource: DataResource, access: RecordAccess) -> int:
    """How many records the caller reads (row scope applied), counted up to COUNT_CAP + 1
    (a full count of a million-row resource costs ~0.3 s, so beyond the cap the page says
    "more than"), cached until the next load."""
    scope = ",".join(access.districts) if access.districts is not None else "*"
    loaded = resource.last_loaded_at.isoformat() if resource.last_loaded_at else "-"
    digest = hashlib.sha256(scope.encode()).hexdigest()[:32]
    key = f"explorer:count:{resource.pk}:{loaded}:{digest}"
    count = cache.get(key)
    if count is None:
        count = records.order_by()[: COUNT_CAP + 1].count()
        cache.set(key, count, COUNT_CACHE_SECONDS)
    return count


def freshness(resource: DataResource, now: dt.datetime | None = None) -> str:
    """Fresh when last loaded within one update cycle."""
    if resource.last_loaded_at is None:
        return Freshness.NEVER
    age = ((now or timezone.now()) - resource.last_loaded_at).total_seconds()
    allowed = UPDATE_CYCLE_SECONDS.get(resource.update_cycle)
    return Freshness.FRESH if allowed is None or age <= allowed else Freshness.STALE
