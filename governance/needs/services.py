"""Writes of data needs (需求清单): file, route, answer (link, commit, refuse), close, and
the overdue sweep.

Keyword-only, atomic, audited in the same transaction, through the need's door
(``DataNeed.objects.restrict(user, action)``): a need the caller may not see is
``DataNeed.DoesNotExist`` (404); one they see but may not act on is ``PermissionDenied``
(403); a wrong state or bad input is a ``ValidationError`` (400) naming the field.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import Notification
from governance.needs.models import OPEN_STATUSES, DataNeed, NeedAnswer, NeedStatus
from governance.needs.policies import ANSWER, CLOSE, ROUTE, authority_code
from hub.catalog.models import DataResource, Department, FieldSpec, UpdateCycle
from hub.catalog.restricted import VIEW, write_service
from permissions import services as sharing
from permissions.audit import log_event
from permissions.models import AccessRequest
from permissions.request_checks import DuplicateRequest
from permissions.scopes import check_districts
from permissions.selectors import UserLike
from permissions.workdays import add_working_days

DEFAULT_ANSWER_DAYS = 10
MAX_ITEMS = 50


def answer_days() -> int:
    """Working days the routed provider has to answer (``HUB_NEED_ANSWER_DAYS``)."""
    return int(getattr(settings, "HUB_NEED_ANSWER_DAYS", DEFAULT_ANSWER_DAYS))


def authority() -> Department | None:
    return Department.objects.filter(code=authority_code(), is_active=True).first()


@dataclass(frozen=True)
class NeedResult:
    """The need after the write, the notifications sent and, for a link, the access
    request it opened."""

    need: DataNeed
    notified: int = 0
    access_request: AccessRequest | None = None


def _notify(need: DataNeed, code: str, *, departments=(), users=(), **extra: Any) -> int:
    params = {"need": need.pk, "title": need.title, **extra}
    rows = [
        Notification(recipient_user_id=pk, code=code, params=params) for pk in sorted(set(users))
    ] + [
        Notification(recipient_department_id=pk, code=code, params=params)
        for pk in sorted(set(departments) - {None})
    ]
    Notification.objects.bulk_create(rows)
    return len(rows)


def _audit(user: UserLike | None, action: str, need: DataNeed, resource=None, **detail) -> None:
    log_event(
        actor=user,
        action=action,
        resource=resource,
        detail={"need": need.pk, "department": need.department.code, **detail},
    )


def _terms(values: list[str] | None, label: str) -> list[str]:
    items = [str(v).strip() for v in values or [] if str(v).strip()]
    if len(items) > MAX_ITEMS or any(len(v) > 100 for v in items):
        raise ValidationError({label: _("最多 50 项，每项不超过 100 个字符。")})
    return list(dict.fromkeys(items))


def _required(value: str, label: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({label: message})
    return value


@write_service
@transaction.atomic
def file_need(
    *,
    user: UserLike,
    department: Department,
    title: str,
    description: str,
    purpose: str,
    legal_basis: str,
    update_cycle: str,
    fields: list[str] | None = None,
    keywords: list[str] | None = None,
    districts: list[str] | None = None,
) -> NeedResult:
    """File a need for ``department`` (one of the user's); the authority is notified."""
    if not Department.objects.filter(pk=department.pk).restrict(user, "member").exists():
        raise PermissionDenied(_("只能以本部门名义提出需求。"))
    need = DataNeed(
        title=_required(title, "title", _("请填写需求名称。"))[:200],
        description=_required(description, "description", _("请说明需要什么数据。")),
        purpose=_required(purpose, "purpose", _("请填写用途。")),
        legal_basis=_required(legal_basis, "legal_basis", _("请填写依据。")),
        update_cycle=update_cycle,
        fields=_terms(fields, "fields"),
        keywords=_terms(keywords, "keywords"),
        districts=check_districts(list(districts or []), user=user),
        department=department,
        filed_by=user,
    )
    if update_cycle not in UpdateCycle.values:
        raise ValidationError({"update_cycle": _("更新周期无效。")})
    need.save()
    _audit(user, "need_file", need, title=need.title)
    target = authority()
    notified = _notify(
        need, "need_filed", departments=[target.pk if target else None], department=department.name
    )
    return NeedResult(need=need, notified=notified)


def _locked(user: UserLike, need: DataNeed, action: str, refusal: str) -> DataNeed:
    """The need locked for ``action``: 404 when hidden, 403 when seen but not allowed."""
    if not DataNeed.objects.filter(pk=need.pk).restrict(user, VIEW).exists():
        raise DataNeed.DoesNotExist
    locked = (
        DataNeed.objects.filter(pk=need.pk)
        .restrict(user, action)
        .select_for_update(of=("self",))
        .select_related("department", "provider")
        .first()
    )
    if locked is None:
        raise PermissionDenied(refusal)
    return locked


def _in_status(need: DataNeed, *statuses: str) -> None:
    if need.status not in statuses:
        raise ValidationError(
            {"status": _("需求当前状态（%(s)s）不能这样办理。") % {"s": need.get_status_display()}}
        )


@write_service
@transaction.atomic
def route_need(
    *,
    user: UserLike,
    need: DataNeed,
    provider: Department,
    candidates: list[str] | None = None,
    note: str = "",
) -> NeedResult:
    """Route a filed (or re-route a routed, unanswered) need to ``provider``; the deadline
    starts now. ``candidates`` are codes of the provider's resources suggested to it."""
    need = _locked(user, need, ROUTE, _("只有共享主管部门可以分派需求。"))
    _in_status(need, NeedStatus.FILED, NeedStatus.ROUTED)
    if not Department.objects.filter(pk=provider.pk, is_active=True).exists():
        raise ValidationError({"provider": _("没有该部门。")})
    codes = _terms(candidates, "candidates")
    found = set(
        DataResource.objects.restrict(user, VIEW)
        .filter(code__in=codes, provider=provider)
        .values_list("code", flat=True)
    )
    if set(codes) - found:
        unknown = ", ".join(sorted(set(codes) - found))
        raise ValidationError({"candidates": _("不是该部门的资源：%(c)s") % {"c": unknown}})
    now = timezone.now()
    need.status = NeedStatus.ROUTED
    need.provider = provider
    need.candidates = codes
    need.routed_by = user
    need.routed_at = now
    need.route_note = note.strip()
    need.due_at = add_working_days(now, answer_days())
    need.save()
    _audit(user, "need_route", need, provider=provider.code, candidates=codes)
    due = timezone.localtime(need.due_at).strftime("%Y-%m-%d %H:%M")
    notified = _notify(need, "need_routed", departments=[provider.pk], due=due)
    notified += _notify(
        need, "need_routed_filer", departments=[need.department_id], provider=provider.name
    )
    return NeedResult(need=need, notified=notified)


def _answered(need: DataNeed, user: UserLike, kind: str, note: str) -> None:
    need.status = NeedStatus.ANSWERED
    need.answer = kind
    need.answer_note = note.strip()
    need.answered_by = user
    need.answered_at = timezone.now()


def _answerable(user: UserLike, need: DataNeed) -> DataNeed:
    need = _locked(user, need, ANSWER, _("只有被分派的提供部门可以答复需求。"))
    _in_status(need, NeedStatus.ROUTED)
    return need


def _matched_fields(need: DataNeed, resource: DataResource, user: UserLike) -> list[str]:
    """The resource's field names the need asked for, by name or label; none matched means
    the whole resource (an access request with no fields asks for every field)."""
    wanted = {term.lower() for term in need.fields}
    specs = FieldSpec.objects.filter(resource=resource).restrict(user, VIEW)
    specs = specs.values_list("name", "label")
    return sorted(
        name for name, label in specs if name.lower() in wanted or label.lower() in wanted
    )


@write_service
@transaction.atomic
def answer_link(
    *,
    user: UserLike,
    need: DataNeed,
    resource: DataResource,
    fields: list[str] | None = None,
    note: str = "",
) -> NeedResult:
    """Answer with an existing resource of the provider; this opens an access request for
    the filing department (in the filer's name: the need is their application) with the
    need's purpose, fields and districts, to be decided in the sharing workflow."""
    need = _answerable(user, need)
    own = DataResource.objects.filter(pk=resource.pk, provider_id=need.provider_id)
    if not own.restrict(user, VIEW).exists():
        raise ValidationError({"resource": _("请选择本部门提供的资源。")})
    filer = need.filed_by
    if filer is None or not filer.is_active:
        raise ValidationError({"resource": _("需求提出人已不在，无法代为提交共享申请。")})
    chosen = list(fields) if fields else _matched_fields(need, resource, user)
    purpose = _("数据需求 #%(need)s：%(purpose)s（依据：%(basis)s）") % {
        "need": need.pk,
        "purpose": need.purpose,
        "basis": need.legal_basis,
    }
    try:
        request = sharing.request_access(
            user=filer,
            requester=need.department,
            resource=resource,
            purpose=purpose,
            fields=chosen,
            districts=need.districts,
        )
    except PermissionDenied as exc:
        raise ValidationError(
            {"resource": _("需求提出人已不在需求部门，无法代为提交共享申请。")}
        ) from exc
    except DataResource.DoesNotExist as exc:
        raise ValidationError({"resource": _("需求部门看不到该资源。")}) from exc
    except DuplicateRequest as exc:
        # The department has already asked for this resource: the need follows that request.
        request = exc.existing
    _answered(need, user, NeedAnswer.LINKED, note)
    need.resource = resource
    need.access_request = request
    need.save()
    _audit(user, "need_answer", need, resource, answer="linked", request=request.pk)
    notified = _notify(
        need,
        "need_linked",
        departments=[need.department_id],
        resource=resource.code,
        request=request.pk,
    )
    return NeedResult(need=need, notified=notified, access_request=request)


@write_service
@transaction.atomic
def answer_commit(*, user: UserLike, need: DataNeed, date: dt.date, note: str = "") -> NeedResult:
    """Answer with a commitment to publish a resource by ``date`` (today or later)."""
    need = _answerable(user, need)
    if date < timezone.localdate():
        raise ValidationError({"date": _("承诺发布日期不能早于今天。")})
    _answered(need, user, NeedAnswer.COMMITTED, note)
    need.commit_date = date
    need.save()
    _audit(user, "need_answer", need, answer="committed", date=date.isoformat())
    notified = _notify(
        need, "need_committed", departments=[need.department_id], date=date.isoformat()
    )
    return NeedResult(need=need, notified=notified)


@write_service
@transaction.atomic
def answer_refuse(*, user: UserLike, need: DataNeed, basis: str) -> NeedResult:
    """Refuse to provide the data; the basis (law, rule or fact) is required."""
    basis = _required(basis, "basis", _("不予提供必须说明依据。"))
    need = _answerable(user, need)
    _answered(need, user, NeedAnswer.REFUSED, basis)
    need.save()
    _audit(user, "need_answer", need, answer="refused", basis=basis)
    notified = _notify(need, "need_refused", departments=[need.department_id], basis=basis)
    return NeedResult(need=need, notified=notified)


@write_service
@transaction.atomic
def close_need(*, user: UserLike, need: DataNeed, note: str = "") -> NeedResult:
    """Close the need (the filer, satisfied or withdrawing; or the authority)."""
    need = _locked(user, need, CLOSE, _("只有需求部门或共享主管部门可以关闭需求。"))
    _in_status(need, *OPEN_STATUSES)
    need.status = NeedStatus.CLOSED
    need.closed_by = user
    need.closed_at = timezone.now()
    need.close_note = note.strip()
    need.save()
    _audit(user, "need_close", need, note=need.close_note)
    notified = _notify(need, "need_closed", departments=[need.department_id, need.provider_id])
    return NeedResult(need=need, notified=notified)


@transaction.atomic
def flag_overdue(*, now: dt.datetime | None = None) -> int:
    """Flag, once each, routed needs past ``due_at`` and commitments past their date that
    are not closed; the authority and the provider are notified. Returns how many."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    lapsed = DataNeed.objects.select_for_update().filter(overdue=False).filter(
        status=NeedStatus.ROUTED, due_at__lt=now
    ) | DataNeed.objects.select_for_update().filter(
        overdue=False,
        status=NeedStatus.ANSWERED,
        answer=NeedAnswer.COMMITTED,
        commit_date__lt=today,
    )
    target = authority()
    count = 0
    for need in lapsed.select_related("department"):
        need.overdue = True
        need.overdue_at = now
        need.save(update_fields=["overdue", "overdue_at"])
        _audit(None, "need_overdue", need, status=need.status)
        _notify(need, "need_overdue", departments=[target.pk if target else None, need.provider_id])
        count += 1
    return count
