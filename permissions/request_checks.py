"""The checks of the access-request workflow (申请 → 审批), for its writes and its pages.

The services in ``permissions.services`` make them before they write; the request pages,
the admin and the API ask some of them first (``check_not_own``, ``check_no_pending``,
``check_may_decide``) so a refusal comes before the form is validated. Each raises
ValidationError (``DuplicateRequest`` for a second pending request) or PermissionDenied;
none writes. The provider's answer deadline (``answer_days``) is set here too.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from hub.catalog.models import DataResource, Department, FieldSpec, SharingType
from permissions.models import AccessRequest, RequestStatus
from permissions.selectors import UserLike, may_change, user_department_ids

DEFAULT_ANSWER_DAYS = 10


def answer_days() -> int:
    """Working days a provider has to answer (``HUB_ACCESS_REQUEST_ANSWER_DAYS``)."""
    return int(getattr(settings, "HUB_ACCESS_REQUEST_ANSWER_DAYS", DEFAULT_ANSWER_DAYS))


def check_field_names(
    user: UserLike | None, resource: DataResource, names: list[str], label: str
) -> None:
    """Refuse ``names`` that are not fields of ``resource`` (of those ``user`` may see;
    None: the system) with a ValidationError under ``label``."""
    fields = FieldSpec.objects.filter(resource=resource)
    if user is not None:
        fields = fields.restrict(user, "view")
    known = set(fields.values_list("name", flat=True))
    unknown = sorted(set(names) - known)
    if unknown:
        raise ValidationError({label: _("未知字段：%(names)s") % {"names": ", ".join(unknown)}})


class DuplicateRequest(ValidationError):
    """The department already has a pending request for the resource (``existing``)."""

    def __init__(self, existing: AccessRequest) -> None:
        super().__init__(
            _("本部门已有待审批的共享申请 #%(pk)d，请勿重复提交。") % {"pk": existing.pk},
            code="duplicate",
        )
        self.existing = existing


def check_no_pending(*, user: UserLike, requester: Department, resource: DataResource) -> None:
    """Raise ``DuplicateRequest`` when the department already has a pending request for
    the resource (a double submit or a back-button resubmit)."""
    existing = (
        AccessRequest.objects.restrict(user, "view")
        .filter(requester=requester, resource=resource, status=RequestStatus.PENDING)
        .order_by("pk")
        .first()
    )
    if existing is not None:
        raise DuplicateRequest(existing)


def check_shareable(resource: DataResource) -> None:
    """Refuse a 不予共享 resource: it can be neither requested nor granted."""
    if resource.sharing_type == SharingType.NONE:
        raise ValidationError({"resource": _("不予共享的资源不能申请或授权。")})


def check_not_own(*, resource: DataResource, requester: Department) -> None:
    """Refuse a request of the provider for its own resource: it reads it already, and a
    self-approved request would count as an answer in its 考核 (assessment)."""
    if resource.provider_id is not None and resource.provider_id == requester.pk:
        raise ValidationError(
            {"resource": _("资源 %(code)s 由本部门提供，无需申请共享。") % {"code": resource.code}}
        )


def _check_provider(user: UserLike, access_request: AccessRequest) -> None:
    # Deciding is the request's ``change`` action: the provider department.
    if not may_change(AccessRequest, access_request.pk, user):
        raise PermissionDenied(_("只有提供方可以审批。"))
    # Never one's own department's request: a member of both sides (or a request filed
    # before providers were refused) would approve itself.
    if access_request.requester_id in user_department_ids(user):
        raise PermissionDenied(_("不能审批本部门提出的共享申请。"))


def check_may_decide(*, user: UserLike, access_request: AccessRequest) -> None:
    """Raise PermissionDenied unless ``user`` may approve or refuse the request (the
    provider, not a member of the requesting department); views ask before validating the
    body, so the answer to anyone else is always 403."""
    _check_provider(user, access_request)
