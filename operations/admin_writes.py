"""Writes of the operations admin, through the checked and audited services.

Rules and mappings are saved and deleted by ``operations.services.rules`` (one audit
event each, with old and new values); the add and change forms refuse, as form errors, a
resource the user does not manage and event records the user cannot read. Work orders
are never edited as a form: every move, feedback included, is an action calling
``transition_work_order``.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from hub.catalog.restricted import ADD, CHANGE
from operations.models import ResourceMapping, Rule, WorkOrderState
from operations.policies import ops_centre_department
from operations.services import rules as services
from operations.services.workorders import transition_work_order, urge_work_order
from permissions.selectors import user_department_ids

# model → (create, update, delete, keyword of the object, editable fields)
WRITES = {
    Rule: (
        services.create_rule,
        services.update_rule,
        services.delete_rule,
        "rule",
        services.RULE_FIELDS,
    ),
    ResourceMapping: (
        services.create_mapping,
        services.update_mapping,
        services.delete_mapping,
        "mapping",
        services.MAPPING_FIELDS,
    ),
}


class ConfigWritesMixin:
    """For the rule and mapping admins: checked forms, saves and deletes by the services."""

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        base = super().get_form(request, obj, change=change, **kwargs)
        user, model = request.user, self.model

        class CheckedForm(base):
            """Refuses targets the user may not use, with the error on the field."""

            def clean(self):
                cleaned = super().clean()
                creating = self.instance.pk is None
                resource = cleaned.get("resource")
                if creating or "resource" in self.changed_data:
                    try:
                        action = ADD if creating else CHANGE
                        services.check_manager(
                            user=user, model=model, action=action, resource=resource
                        )
                    except PermissionDenied as exc:
                        if resource is not None:  # else the field has its own error
                            self.add_error("resource", str(exc))
                if "event_resource" in self.changed_data:
                    try:
                        services.check_event_resource(
                            user=user, event_resource=cleaned.get("event_resource")
                        )
                    except PermissionDenied as exc:
                        self.add_error("event_resource", str(exc))
                if "point" in cleaned:
                    try:
                        services.check_point(resource=resource, point=cleaned.get("point"))
                    except ValidationError as exc:
                        self.add_error(None, exc)
                return cleaned

        return CheckedForm

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        create, update, _delete, keyword, fields = WRITES[self.model]
        if not change:
            create(user=request.user, **{keyword: obj})
            return
        names = [name for name in form.changed_data if name in fields]
        if names:
            changes = {name: getattr(obj, name) for name in names}
            update(user=request.user, changes=changes, **{keyword: obj})

    def delete_model(self, request: HttpRequest, obj) -> None:
        _create, _update, delete, keyword, _fields = WRITES[self.model]
        delete(user=request.user, **{keyword: obj})

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        _create, _update, delete, keyword, _fields = WRITES[self.model]
        # All or nothing: one row the user may not delete refuses the whole action.
        with transaction.atomic():
            for obj in queryset.order_by("pk"):
                delete(user=request.user, **{keyword: obj})


class WorkOrderActionsMixin:
    """Work orders move only by these actions; the change form is read-only."""

    actions = ["accept", "start", "resolve", "send_back", "verify", "close", "urge"]
    feedback_template = "admin/operations/workorder/feedback.html"
    # Roles (docs/OPERATIONS.md): the assigned department works an order, the ops centre
    # urges (and dispatches, on /ops/), the provider or the ops centre checks.
    WORK_ACTIONS = ("accept", "start", "resolve")

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        user = request.user
        if user.is_superuser:
            return actions
        centre = ops_centre_department(user)
        if centre is None:
            actions.pop("urge", None)
        elif set(user_department_ids(user)) == {centre.pk}:
            for name in self.WORK_ACTIONS:  # the ops centre does not work orders itself
                actions.pop(name, None)
        return actions

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        # Feedback included: it is written by the transitions (resolve), never typed over.
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # dispatched by the sync, never by hand

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # The changelist's actions need it; the change form of one order never saves.
        return obj is None and super().has_change_permission(request, obj)

    def _move(
        self, request: HttpRequest, queryset, to_state: str, feedback: str = "", only_from=None
    ) -> None:
        moved = 0
        for order in queryset:
            if only_from and order.state not in only_from:
                wrong = _("当前状态不能执行此操作")
                self.message_user(request, f"{order.code}: {wrong}", messages.WARNING)
                continue
            try:
                transition_work_order(
                    user=request.user, work_order=order, to_state=to_state, feedback=feedback
                )
            except PermissionDenied as exc:
                self.message_user(request, f"{order.code}: {exc}", messages.WARNING)
            except ValidationError as exc:
                self.message_user(request, f"{order.code}: {exc.messages[0]}", messages.WARNING)
            else:
                moved += 1
        self.message_user(request, _("已处理 %(n)d 张工单。") % {"n": moved})

    def _move_with_feedback(self, request: HttpRequest, queryset, to_state: str, action: str):
        """Asks for the feedback on an intermediate page, then moves the orders."""
        feedback = request.POST.get("feedback", "").strip()
        if not feedback:
            if "confirm" in request.POST:
                self.message_user(request, _("请填写处置反馈或退回理由。"), messages.ERROR)
            context = {
                **self.admin_site.each_context(request),
                "queryset": queryset,
                "action": action,
                "title": self.get_action(action)[2],
            }
            return TemplateResponse(request, self.feedback_template, context)
        only_from = ("resolved",) if action == "send_back" else None
        self._move(request, queryset, to_state, feedback, only_from=only_from)
        return None

    @admin.action(description=_("签收"), permissions=["change"])
    def accept(self, request, queryset):
        self._move(request, queryset, WorkOrderState.ACCEPTED)

    @admin.action(description=_("开始处置"), permissions=["change"])
    def start(self, request, queryset):
        # Only accepted orders: a resolved one goes back to work by "send back", with a reason.
        self._move(request, queryset, WorkOrderState.IN_PROGRESS, only_from=("accepted",))

    @admin.action(description=_("办结（填写处置反馈）"), permissions=["change"])
    def resolve(self, request, queryset):
        return self._move_with_feedback(request, queryset, WorkOrderState.RESOLVED, "resolve")

    @admin.action(description=_("核查不通过，退回处置"), permissions=["change"])
    def send_back(self, request, queryset):
        return self._move_with_feedback(request, queryset, WorkOrderState.IN_PROGRESS, "send_back")

    @admin.action(description=_("核查通过"), permissions=["change"])
    def verify(self, request, queryset):
        self._move(request, queryset, WorkOrderState.VERIFIED)

    @admin.action(description=_("督办"), permissions=["change"])
    def urge(self, request, queryset):
        moved = 0
        for order in queryset:
            try:
                urge_work_order(user=request.user, work_order=order)
            except (PermissionDenied, ValidationError) as exc:
                reason = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
                self.message_user(request, f"{order.code}: {reason}", messages.WARNING)
            else:
                moved += 1
        self.message_user(request, _("已督办 %(n)d 张工单。") % {"n": moved})

    @admin.action(description=_("归档"), permissions=["change"])
    def close(self, request, queryset):
        self._move(request, queryset, WorkOrderState.CLOSED)
